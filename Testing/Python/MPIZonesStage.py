"""Stage of RunMPIZones.py, run by pvpython (serial) or mpirun ... pvbatch: THA Phantom ->
Normal Offset Probe -> Cortical Classify (automatic thresholds, smoothing) -> Gruen Zone Stats;
saves the zone surface (.pvtp) and the table (.csv)."""
import argparse
import os

from paraview.simple import *  # noqa: F401,F403

import ibctest

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--name", required=True)
parser.add_argument("--distribute", type=int, default=0)
args = parser.parse_args()

ibctest.load_plugin(globals())
phantom = THAPhantom(BloomingWidth=2.0, DistributeSurface=args.distribute, ChordTolerance=0.01)
probe = NormalOffsetProbe(Input=OutputPort(phantom, 1), Source=OutputPort(phantom, 0))
classified = CorticalClassify(Input=probe, AutomaticThresholds=1, SmoothingRadius=2.0)
zones = GruenZoneStats(Input=classified)
SaveData(os.path.join(args.out, args.name + ".pvtp"), proxy=OutputPort(zones, 0))
SaveData(os.path.join(args.out, args.name + ".csv"), proxy=OutputPort(zones, 1), Precision=15)
