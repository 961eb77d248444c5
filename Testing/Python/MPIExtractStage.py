"""Stage of RunMPIExtract.py: THA Phantom's CT (computed piece by piece under MPI) -> Implant
Extract, saved as .pvtp."""
import argparse
import os

from paraview.simple import *  # noqa: F401,F403

import ibctest

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--name", required=True)
args = parser.parse_args()
ibctest.load_plugin(globals())
phantom = THAPhantom(Spacing=[0.8, 0.8, 1.2], BloomingWidth=2.0)
extracted = ImplantExtract(Input=OutputPort(phantom, 0))
SaveData(os.path.join(args.out, args.name + ".pvtp"), proxy=extracted)
