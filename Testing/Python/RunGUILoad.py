"""The ParaView GUI loads the plugin without error under xvfb-run, runs THA Phantom and the
contact chain, reads a DICOM series with CT Volume Reader (its panel shown), and extracts and
registers the implant."""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import ibctest  # noqa: E402

out = ibctest.output_dir("gui")
result_path = os.path.join(out, "result.txt")
if os.path.exists(result_path):
    os.remove(result_path)
env = dict(os.environ)
env["PV_PLUGIN_PATH"] = os.path.dirname(ibctest.plugin_path())
env["IBC_GUI_RESULT"] = result_path
env["IBC_GUI_VOLUMES"] = os.path.join(out, "volumes")
subprocess.run([env["IBC_WRITE_TEST_VOLUMES"], env["IBC_GUI_VOLUMES"]], check=True)
# A fresh settings folder, so no user setting interferes.
env["HOME"] = os.path.join(out, "home")
os.makedirs(env["HOME"], exist_ok=True)
run = subprocess.run([env["IBC_XVFB_RUN"], "-a", "-s", "-screen 0 1280x1024x24", env["IBC_PARAVIEW"],
                      "--script=" + os.path.join(here, "GUILoadScript.py")],
                     env=env, timeout=300, capture_output=True, text=True)
log = run.stdout + run.stderr
checks = ibctest.Checker("GUI load")
result = open(result_path).read() if os.path.exists(result_path) else "(no result file)\n" + log
print(result)
checks.check(result.strip().endswith("OK"), "GUI script ran the phantom, the chain, the reader, extract and register")
errors = [line for line in log.splitlines() if "ImplantBoneContact" in line and "rror" in line]
checks.check(not errors, "no plugin error in the GUI log: %s" % errors[:3])
checks.finish()
