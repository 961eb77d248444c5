"""Runs inside the ParaView GUI before the playback of GUIAnalyzeCTOnly.xml: only a CT (THA
Phantom's CT passed through Pass Arrays, so that no surface is on offer) applied and selected."""
from paraview import simple

phantom = simple.THAPhantom(Spacing=[1.5, 1.5, 2.0])
ct = simple.PassArrays(Input=simple.OutputPort(phantom, 0), PointDataArrays=["HU"])
view = simple.GetActiveViewOrCreate("RenderView")
simple.Show(ct, view)
simple.SetActiveSource(ct)
simple.Render(view)
