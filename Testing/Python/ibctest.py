"""Helpers shared by the pvpython and driver tests."""
import os
import sys


def plugin_path():
    path = os.environ.get("IBC_PLUGIN")
    if not path or not os.path.exists(path):
        sys.exit("IBC_PLUGIN does not name the built plugin (got %r); run the tests through ctest" % path)
    return path


def output_dir(name):
    path = os.path.join(os.environ.get("IBC_TEST_OUTPUT", "/tmp/ibc-test-output"), name)
    os.makedirs(path, exist_ok=True)
    return path


def fresh_output_dir(name):
    """An empty output folder (what an earlier run left is removed)."""
    import shutil
    path = output_dir(name)
    shutil.rmtree(path)
    os.makedirs(path)
    return path


def read_pieces(meta_file):
    """The data sets of every piece named in a .pvtp or .pvti file, in file order."""
    import xml.etree.ElementTree as ElementTree
    from vtkmodules.vtkIOXML import vtkXMLImageDataReader, vtkXMLPolyDataReader
    folder = os.path.dirname(meta_file)
    result = []
    for piece in ElementTree.parse(meta_file).getroot().iter("Piece"):
        reader = vtkXMLImageDataReader() if meta_file.endswith(".pvti") else vtkXMLPolyDataReader()
        reader.SetFileName(os.path.join(folder, piece.get("Source")))
        reader.Update()
        result.append(reader.GetOutput())
    return result


def open_or_nonmanifold_edges(surface):
    """Number of boundary and non-manifold edges (0 for a closed, manifold surface)."""
    from vtkmodules.vtkFiltersCore import vtkFeatureEdges
    edges = vtkFeatureEdges()
    edges.SetInputData(surface)
    edges.BoundaryEdgesOn()
    edges.NonManifoldEdgesOn()
    edges.FeatureEdgesOff()
    edges.ManifoldEdgesOff()
    edges.Update()
    return edges.GetOutput().GetNumberOfCells()


def load_plugin(namespace, remote=False):
    from paraview import simple
    if remote:
        simple.LoadPlugin(plugin_path(), remote=True, ns=namespace)
    else:
        simple.LoadPlugin(plugin_path(), ns=namespace)


class Checker:
    """Collects named checks, prints each with its numbers, fails at the end if any failed."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.count = 0

    def check(self, condition, message):
        self.count += 1
        print(("PASS " if condition else "FAIL ") + message, flush=True)
        if not condition:
            self.failures.append(message)

    def near(self, value, expected, tolerance, message):
        self.check(abs(value - expected) <= tolerance,
                   "%s: %.6g (expected %.6g +- %.3g)" % (message, value, expected, tolerance))

    def finish(self):
        print("%s: %d checks, %d failed" % (self.name, self.count, len(self.failures)), flush=True)
        if self.failures:
            sys.exit(1)


def field_value(data, name):
    """The first value of a field-data array."""
    return data.GetFieldData().GetArray(name).GetValue(0)


def array(data, name, points=True):
    from vtkmodules.util.numpy_support import vtk_to_numpy
    attributes = data.GetPointData() if points else data.GetCellData()
    values = attributes.GetArray(name)
    if values is None:
        raise KeyError("array %s missing" % name)
    return vtk_to_numpy(values)


def vertex_areas(data):
    """Each point's share of the surface area (a third of each triangle it is a corner of)."""
    import numpy as np
    from vtkmodules.util.numpy_support import vtk_to_numpy
    points = vtk_to_numpy(data.GetPoints().GetData()).astype(float)
    triangles = vtk_to_numpy(data.GetPolys().GetConnectivityArray()).reshape(-1, 3)
    area = 0.5 * np.linalg.norm(np.cross(points[triangles[:, 1]] - points[triangles[:, 0]],
                                         points[triangles[:, 2]] - points[triangles[:, 0]]), axis=1)
    result = np.zeros(len(points))
    for corner in range(3):
        np.add.at(result, triangles[:, corner], area / 3.0)
    return result


def uncached_ranges(source, port=0):
    """Names of the point arrays of a source's output (built-in session) whose range and finite
    range are not cached with the array: ParaView's information pass would walk every value of
    those, on one thread, when the first filter that lists the arrays is added."""
    from vtkmodules.vtkCommonCore import vtkAbstractArray
    data = source.GetClientSideObject().GetOutputDataObject(port)
    missing = []
    for i in range(data.GetPointData().GetNumberOfArrays()):
        array = data.GetPointData().GetArray(i)
        info = array.GetInformation()
        cached = (info.Has(vtkAbstractArray.PER_COMPONENT()) and
                  info.Has(vtkAbstractArray.PER_FINITE_COMPONENT()) and array.GetMTime() <= info.GetMTime())
        if not cached:
            missing.append(array.GetName())
    return missing


def image_array(image, name):
    """Point array of an image as a (z, y, x) numpy array."""
    dims = image.GetDimensions()
    return array(image, name).reshape(dims[2], dims[1], dims[0])


class StderrCapture:
    """Collects what VTK prints on stderr (its warnings and errors) inside a `with` block."""

    def __enter__(self):
        import tempfile
        self.file = tempfile.TemporaryFile(mode="w+")
        self.saved = os.dup(2)
        os.dup2(self.file.fileno(), 2)
        return self

    def __exit__(self, *args):
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        self.text = self.file.read()
        self.file.close()


def run_stages(stage, out, ranks, parallel_runs):
    """Runs a stage script serially with pvpython (--name serial) and under
    `mpirun -np ranks pvbatch` once per entry of parallel_runs (extra arguments, with --name)."""
    import subprocess
    env = dict(os.environ)
    subprocess.run([env["IBC_PVPYTHON"], stage, "--name", "serial", "--out", out], check=True, env=env, timeout=600)
    for arguments in parallel_runs:
        subprocess.run([env["IBC_MPIRUN"], "--allow-run-as-root", "--oversubscribe", "-np", str(ranks),
                        env["IBC_PVBATCH"], stage, "--out", out] + list(arguments),
                       check=True, env=env, timeout=600)
