"""Stage of RunMPIReader.py, run by pvpython (serial reference) or mpirun ... pvbatch: reads the
test volumes with CT Volume Reader and writes what every rank holds."""
import argparse
import os

from paraview.simple import *  # noqa: F401,F403
from paraview import servermanager

import ibctest

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--name", required=True)
args = parser.parse_args()

ibctest.load_plugin(globals())
controller = servermanager.vtkProcessModule.GetProcessModule().GetGlobalController()
ranks = controller.GetNumberOfProcesses() if controller else 1
volumes = os.path.join(args.out, "volumes")
for source in ["dicom", "ct.mha", "ct_raw.nhdr", "ct.nii.gz"]:
    reader = CTVolumeReader(FileName=os.path.join(volumes, source))
    SaveData(os.path.join(args.out, "%s-%s.pvti" % (args.name, source.replace(".", "_"))), proxy=reader)
with open(os.path.join(args.out, args.name + ".ranks"), "w") as f:
    f.write(str(ranks))
