"""The one-click analysis in the real ParaView GUI (under xvfb-run): with THA Phantom selected,
the "Analyze Implant Contact" menu entry builds the chain, the "Gruen Zones" panel shows the new
Gruen Zone Stats, switches columns and exports SVG and PNG; after Side is changed and applied
in the Properties panel, the panel shows the new table. Checked against ground truth: the
panel's values equal the zone table of the same chain computed here in paraview.simple, and the
screen (main window, panel, views) matches a stored baseline within a tolerance.
Run with --update-baseline (or IBC_UPDATE_BASELINE=1 ctest -R gui.Analyze) to store the current
screen as the baseline."""
import os
import re
import shutil
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import ibcscreen  # noqa: E402
import ibctest  # noqa: E402

BASELINE = os.path.join(here, "..", "Data", "Baselines", "gui-analyze-screen.png")


def run_gui(out, name, screen_after=None):
    """Runs <name>Setup.py and plays <name>.xml in the GUI; returns (exit status, log, screen
    array or None), the screen taken once the file `screen_after` (in out) appears."""
    out = os.path.join(out, name)
    os.makedirs(out)
    script = open(os.path.join(here, name + ".xml.in")).read().replace("@OUT@", out)
    playback = os.path.join(out, name + ".xml")
    open(playback, "w").write(script)
    framebuffer = os.path.join(out, "framebuffer")
    os.makedirs(framebuffer)
    env = dict(os.environ)
    env["PV_PLUGIN_PATH"] = os.path.dirname(ibctest.plugin_path())
    env["HOME"] = os.path.join(out, "home")  # no user setting interferes
    env["XDG_CONFIG_HOME"] = os.path.join(out, "home", "config")
    os.makedirs(env["XDG_CONFIG_HOME"])
    log = open(os.path.join(out, "gui.log"), "w")
    gui = subprocess.Popen([env["IBC_XVFB_RUN"], "-a", "-s", "-screen 0 1280x1024x24 -fbdir " + framebuffer,
                            env["IBC_PARAVIEW"], "--dr", "--script=" + os.path.join(here, name + "Setup.py"),
                            "--test-directory=" + out, "--test-script=" + playback, "--exit"],
                           env=env, stdout=log, stderr=subprocess.STDOUT)
    screen = None
    picture = os.path.join(out, screen_after) if screen_after else None
    deadline = time.time() + 300
    while gui.poll() is None and time.time() < deadline:
        if screen is None and picture and os.path.exists(picture):
            time.sleep(2.0)  # the playback pauses 4 s after the last export
            screen = ibcscreen.read_xwd(os.path.join(framebuffer, "Xvfb_screen0"))
        time.sleep(0.2)
    if gui.poll() is None:
        gui.kill()
    log.close()
    return gui.wait(), open(os.path.join(out, "gui.log")).read(), screen


def extracted_truth():
    """CorticalFraction by zone of the chain on the implant extracted from the CT."""
    from paraview import servermanager, simple
    phantom = simple.THAPhantom(Spacing=[1.5, 1.5, 2.0])
    ct = simple.OutputPort(phantom, 0)
    remeshed = simple.ImplantRemesh(Input=simple.ImplantExtract(Input=ct))
    zones = simple.GruenZoneStats(Input=simple.CorticalClassify(Input=simple.NormalOffsetProbe(Input=remeshed,
                                                                                               Source=ct)))
    zones.UpdatePipeline()
    table = servermanager.Fetch(zones, idx=1)
    zone, value = table.GetColumnByName("Zone"), table.GetColumnByName("CorticalFraction")
    return {zone.GetValue(r): value.GetValue(r) for r in range(table.GetNumberOfRows())}


def truth_tables():
    """The same chain with the same defaults, in paraview.simple: {column: {zone: value}}, and
    the CorticalFraction column once Side is set to Left (the phantom is a right hip)."""
    from paraview import servermanager, simple
    phantom = simple.THAPhantom(Spacing=[1.5, 1.5, 2.0])
    remeshed = simple.ImplantRemesh(Input=simple.OutputPort(phantom, 1))
    probe = simple.NormalOffsetProbe(Input=remeshed, Source=simple.OutputPort(phantom, 0))
    zones = simple.GruenZoneStats(Input=simple.CorticalClassify(Input=probe))
    tables = []
    for side in ("Automatic", "Left"):
        zones.Side = side
        zones.UpdatePipeline()
        table = servermanager.Fetch(zones, idx=1)
        zone = table.GetColumnByName("Zone")
        tables.append({name: {zone.GetValue(r): table.GetColumnByName(name).GetValue(r)
                              for r in range(table.GetNumberOfRows())} for name in ("CorticalFraction", "HUMedian")})
    return tables[0], tables[1]["CorticalFraction"]


def svg_values(path):
    """The panel's values as written into the SVG's description: {zone: value}."""
    text = open(path).read()
    description = re.search(r"<desc>([^<]*)</desc>", text)
    pairs = description.group(1).split() if description else []
    return {int(k): float(v) for k, v in (pair.split("=") for pair in pairs) if v != "-"}


def main():
    root = ibctest.fresh_output_dir("gui-analyze")
    checks = ibctest.Checker("GUI Analyze Implant Contact")
    runs = {}
    for name, screen_after in (("GUIAnalyze", "zones_cortical.png"), ("GUIAnalyzeCTOnly", None)):
        status, log, screen = run_gui(root, name, screen_after)
        runs[name] = screen
        failures = [line for line in log.splitlines() if line.startswith("critical:")]
        checks.check(status == 0 and "Success =  true" in log and not failures,
                     "%s: the playback ran to the end (exit %s): %s" % (name, status, failures[:4]))
    screen = runs["GUIAnalyze"]
    out = os.path.join(root, "GUIAnalyze")
    from paraview import simple
    ibctest.load_plugin(vars(simple))
    truth, left = truth_tables()
    for column, name, expected in (("HUMedian", "zones_hu.svg", truth["HUMedian"]),
                                   ("CorticalFraction", "zones_cortical.svg", truth["CorticalFraction"]),
                                   ("CorticalFraction, Side Left applied", "zones_cortical_left.svg", left),
                                   ("CorticalFraction, CT alone (implant extracted)",
                                    os.path.join("..", "GUIAnalyzeCTOnly", "zones_extracted.svg"), extracted_truth())):
        path = os.path.join(out, name)
        shown = svg_values(path) if os.path.exists(path) else {}
        worst = max((abs(shown.get(z, float("nan")) - v) / max(1.0, abs(v)) for z, v in expected.items()),
                    default=float("nan"))
        print("%s: panel %d zones, truth %d zones, largest relative difference %.2g" % (
            column, len(shown), len(expected), worst))
        checks.check(len(shown) == len(expected) == 15 and worst < 1e-3,
                     "the panel's %s equals the zone table of the same chain (exported SVG)" % column)
        checks.check(os.path.exists(path) and 'font-family' in open(path).read(), "%s is an SVG with text" % name)
    picture = os.path.join(out, "zones_cortical.png")
    checks.check(os.path.exists(picture) and ibcscreen.png_size(picture) == (1120, 1200),
                 "the exported PNG is 1120 x 1200")
    checks.check(screen is not None, "the screen was taken while the GUI was up")
    if screen is not None:
        ibcscreen.write_png(os.path.join(out, "screen.png"), screen)
        if "--update-baseline" in sys.argv or os.environ.get("IBC_UPDATE_BASELINE"):
            os.makedirs(os.path.dirname(BASELINE), exist_ok=True)
            shutil.copy(os.path.join(out, "screen.png"), BASELINE)
        share = ibcscreen.difference(screen, ibcscreen.read_png(BASELINE)) if os.path.exists(BASELINE) else 1.0
        print("screen: %.2f %% of the pixels differ from %s (see %s)" % (
            100 * share, os.path.relpath(BASELINE), os.path.join(out, "screen.png")))
        checks.check(share < 0.03, "the screen matches the baseline (under 3 % of the pixels differ)")
    checks.finish()


if __name__ == "__main__":
    main()
