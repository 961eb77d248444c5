"""Runs inside the ParaView GUI before the playback of GUIAnalyze.xml: the THA Phantom (CT on
port 0, stem on port 1) applied, shown and selected, as a user would leave it."""
from paraview import simple

phantom = simple.THAPhantom(Spacing=[1.5, 1.5, 2.0])
view = simple.GetActiveViewOrCreate("RenderView")
simple.Show(phantom, view)
simple.SetActiveSource(phantom)
simple.Render(view)
