"""Stage of RunMPIProbe.py, run by pvpython (serial) or mpirun ... pvbatch: THA Phantom (volume
split by extents) -> Normal Offset Probe in five settings, each output saved as .pvtp."""
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
phantom = THAPhantom(BloomingWidth=2.0, DistributeSurface=args.distribute)
settings = {
    "metal": dict(),  # the default: Metal Corrected (its fit is global: gathered profiles)
    "automatic": dict(Mode="Automatic"),
    "offset": dict(Mode="Single Offset", Offset=3.0),
    "cubic": dict(Mode="Single Offset", Offset=2.5, Interpolation="Cubic"),
    "median": dict(Mode="Profile Median", ProfileStart=1, ProfileEnd=4, ProfileSamples=7,
                   Interpolation="Nearest", StoreProfile=1),
}
for label, options in settings.items():
    probe = NormalOffsetProbe(Input=OutputPort(phantom, 1), Source=OutputPort(phantom, 0), **options)
    SaveData(os.path.join(args.out, "%s-%s.pvtp" % (args.name, label)), proxy=probe)
