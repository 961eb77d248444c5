"""Stage of RunMPIRemesh.py: THA Phantom's stem (split over the ranks under MPI) -> Implant
Remesh, saved as .pvtp: the CAD stem at a uniform 1.5 mm, and the segmented export remeshed
adaptively (Maximum Deviation 0.05 mm)."""
import argparse
import os

from paraview.simple import *  # noqa: F401,F403

import ibctest

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--name", required=True)
args = parser.parse_args()
ibctest.load_plugin(globals())
phantom = THAPhantom(Spacing=[3.0, 3.0, 3.0], DistributeSurface=1)
remeshed = ImplantRemesh(Input=OutputPort(phantom, 1), TargetEdgeLength=1.5)
SaveData(os.path.join(args.out, args.name + ".pvtp"), proxy=remeshed)
segmented = THAPhantom(Spacing=[3.0, 3.0, 3.0], DistributeSurface=1, SurfaceKind="Segmented Export",
                       SegmentationVoxelSize=1.0)
adaptive = ImplantRemesh(Input=OutputPort(segmented, 1), SizingMode="Adaptive", MaximumDeviation=0.05)
SaveData(os.path.join(args.out, args.name + "-adaptive.pvtp"), proxy=adaptive)
