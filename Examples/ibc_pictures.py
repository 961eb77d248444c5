"""Pictures of a contact analysis: the stem coloured by HU and by Gruen zone, seen from each
face, with the per-zone cortical contact written beside it. Used by the main job and by the
case command; needs a display (run pvpython under xvfb-run without one)."""
import os

import numpy as np
from paraview.simple import *  # noqa: F401,F403
from vtkmodules.util.numpy_support import vtk_to_numpy


def save_pictures(zones, stem, table, output):
    """Saves heatmap_<face>_face.png and zones_<face>_face.png for the anterior, posterior,
    lateral and medial faces into `output`; returns the file names (none without a display).
    `zones` is the Gruen Zone Stats proxy, `stem` and `table` its fetched outputs."""
    images = []
    column = lambda name: vtk_to_numpy(table.GetColumnByName(name))
    try:
        axis = np.array(stem.GetFieldData().GetArray("StemAxisDirection").GetTuple3(0))
        medial = np.array(stem.GetFieldData().GetArray("StemMedialDirection").GetTuple3(0))
        anterior = np.array(stem.GetFieldData().GetArray("StemAnteriorDirection").GetTuple3(0))
        center = vtk_to_numpy(stem.GetPoints().GetData()).mean(axis=0)
        view = CreateView("RenderView")
        view.ViewSize = [700, 900]
        view.OrientationAxesVisibility = 0
        if view.GetProperty("UseColorPaletteForBackground") is not None:
            view.UseColorPaletteForBackground = 0
        view.Background = [1, 1, 1]
        display = Show(OutputPort(zones, 0), view)
        fractions = {int(z): float(column("CorticalFraction")[r]) for r, z in enumerate(column("Zone"))}
        legend = "Cortical contact by Gruen zone\n" + "\n".join(
            "zone %2d: %3.0f %%" % (z, 100 * fractions[z]) for z in range(1, 15)) + \
            "\nwhole stem: %3.0f %%" % (100 * fractions[0])
        text = Text(Text=legend)
        text_display = Show(text, view)
        text_display.Color = [0, 0, 0]
        text_display.Justification = "Left"
        text_display.FontSize = 11
        text_display.WindowLocation = "Upper Right Corner"
        def snapshot(colours, file_name):
            """Saves the view with a legend (black on white) for the colours shown."""
            display.SetScalarBarVisibility(view, True)
            bar = GetScalarBar(colours, view)
            bar.TitleColor = bar.LabelColor = [0, 0, 0]
            SaveScreenshot(os.path.join(output, file_name), view, ImageResolution=[700, 900])
            images.append(file_name)
            display.SetScalarBarVisibility(view, False)

        # Named by the face each picture shows and the zones it carries: the anterior face holds
        # zones 8-10 of the lateral radiograph, the lateral face zones 1-3 of the AP one.
        faces = (("anterior", anterior, "8-10"), ("posterior", -anterior, "12-14"),
                 ("lateral", -medial, "1-3"), ("medial", medial, "5-7"))
        title = Text()
        title_display = Show(title, view)
        title_display.Color = [0, 0, 0]
        title_display.FontSize = 13
        title_display.WindowLocation = "Upper Left Corner"
        for face, direction, face_zones in faces:
            name = face + "_face"
            title.Text = "%s face (zones %s; 4 and 11 at the tip)" % (face.capitalize(), face_zones)
            view.CameraFocalPoint = list(center)
            view.CameraPosition = list(center + 400 * direction)
            view.CameraViewUp = list(axis)
            view.ResetCamera()
            ColorBy(display, ("POINTS", "HU"))
            lut = GetColorTransferFunction("HU")
            lut.ApplyPreset("Jet", True)
            lut.RescaleTransferFunction(-100.0, 1500.0)
            Hide(text, view)
            snapshot(lut, "heatmap_%s.png" % name)
            ColorBy(display, ("POINTS", "GruenZone"))
            zone_lut = GetColorTransferFunction("GruenZone")
            zone_lut.InterpretValuesAsCategories = 1
            zone_lut.Annotations = sum(([str(z), "0 (above the limit)" if z == 0 else str(z)] for z in range(15)), [])
            # Fifteen distinct colours: grey above the limit, then the AP zones and the lateral ones.
            palette = [(0.8, 0.8, 0.8), (0.12, 0.47, 0.71), (0.68, 0.78, 0.91), (1.0, 0.5, 0.05),
                       (1.0, 0.73, 0.47), (0.17, 0.63, 0.17), (0.6, 0.87, 0.54), (0.84, 0.15, 0.16),
                       (1.0, 0.6, 0.59), (0.58, 0.4, 0.74), (0.77, 0.69, 0.84), (0.55, 0.34, 0.29),
                       (0.77, 0.61, 0.58), (0.89, 0.47, 0.76), (0.74, 0.74, 0.13)]
            zone_lut.IndexedColors = [c for colour in palette for c in colour]
            Show(text, view)
            snapshot(zone_lut, "zones_%s.png" % name)
    except Exception as error:  # no display: the numbers are still complete
        print("Pictures skipped (%s); run under xvfb-run to get them." % error)
    return images
