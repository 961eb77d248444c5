"""MPI test of Implant Remesh: with the stem split over N ranks, the result is one closed
surface with exactly the serial number of points and triangles, on rank 0.

Run by ctest with the system python3; starts pvpython and mpirun itself."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ibctest  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--np", type=int, default=2)
args = parser.parse_args()
out = ibctest.fresh_output_dir("mpi-remesh-np%d" % args.np)
stage = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MPIRemeshStage.py")
ibctest.run_stages(stage, out, args.np, [["--name", "parallel"]])

checks = ibctest.Checker("RunMPIRemesh np=%d" % args.np)


def pieces(name):
    return ibctest.read_pieces(os.path.join(out, name + ".pvtp"))


def remeshed_pieces(suffix, label):
    """The serial surface and the one non-empty parallel piece, after checking that there is
    exactly one and that its points and triangles number the serial ones."""
    serial = pieces("serial" + suffix)[0]
    parallel = [p for p in pieces("parallel" + suffix) if p.GetNumberOfPoints() > 0]
    checks.check(len(parallel) == 1, "%sone piece holds the remeshed surface (%d non-empty)" % (label, len(parallel)))
    result = parallel[0]
    checks.check(result.GetNumberOfPoints() == serial.GetNumberOfPoints() and
                 result.GetNumberOfCells() == serial.GetNumberOfCells(),
                 "%spoints and triangles equal serial: %d / %d vs %d / %d" % (
                     label, result.GetNumberOfPoints(), result.GetNumberOfCells(), serial.GetNumberOfPoints(),
                     serial.GetNumberOfCells()))
    return serial, result


serial, result = remeshed_pieces("", "")
checks.check(ibctest.open_or_nonmanifold_edges(result) == 0, "the gathered, remeshed surface is closed and manifold")

# Adaptive sizing on the segmented export: the same surface, and the same deviation reached.
serial, result = remeshed_pieces("-adaptive", "adaptive: ")
deviation = lambda data: ibctest.field_value(data, "DeviationInputToOutput")
checks.check(deviation(result) == deviation(serial),
             "adaptive: deviation reached equals serial (%.5f vs %.5f mm)" % (deviation(result), deviation(serial)))
checks.finish()
