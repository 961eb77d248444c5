"""Runs inside the ParaView GUI (paraview --script): the plugin must be loaded (from
PV_PLUGIN_PATH) and its source must run. Writes its findings to the file named by
IBC_GUI_RESULT, since print does not reach the terminal, then exits the GUI."""
import os
import traceback

result = open(os.environ["IBC_GUI_RESULT"], "w")
try:
    from paraview import simple
    phantom = simple.THAPhantom(Spacing=[1.5, 1.5, 2.0])
    view = simple.GetActiveViewOrCreate("RenderView")
    probe = simple.NormalOffsetProbe(Input=simple.OutputPort(phantom, 1), Source=simple.OutputPort(phantom, 0))
    zones = simple.GruenZoneStats(Input=simple.CorticalClassify(Input=probe))
    display = simple.Show(simple.OutputPort(zones, 0), view)
    simple.ColorBy(display, ("POINTS", "HU"))
    display.LookupTable.RescaleTransferFunction(-100.0, 1500.0)
    # Anterior view (LPS: anterior is -y), superior up.
    view.CameraFocalPoint = [0, 0, 0]
    view.CameraPosition = [0, -1, 0]
    view.CameraViewUp = [0, 0, 1]
    simple.ResetCamera(view)
    simple.Render(view)
    screenshot = os.path.join(os.path.dirname(os.environ["IBC_GUI_RESULT"]), "gui-phantom.png")
    simple.SaveScreenshot(screenshot, view, ImageResolution=[640, 480])
    cells = probe.GetDataInformation().GetNumberOfCells()
    hu_range = probe.PointData["HU"].GetRange()
    rows = zones.GetDataInformation(1).GetNumberOfRows()
    if rows != 15:
        raise RuntimeError("the zone table has %d rows, not 15" % rows)
    # CT Volume Reader on a DICOM folder, made the active source so that its panel is built.
    reader = simple.CTVolumeReader(FileName=os.path.join(os.environ["IBC_GUI_VOLUMES"], "dicom"))
    simple.SetActiveSource(reader)
    simple.Show(reader, view)
    series = list(reader.GetProperty("AvailableSeries"))
    dimensions = reader.GetDataInformation().GetExtent()
    if len(series) != 2 or dimensions[5] != 10:
        raise RuntimeError("CT Volume Reader: series %s, extent %s" % (series, dimensions))
    # The implant from the CT: extracted, and the CAD stem registered onto the CT.
    extracted = simple.ImplantExtract(Input=simple.OutputPort(phantom, 0))
    simple.SetActiveSource(extracted)
    simple.Show(extracted, view)
    registered = simple.ImplantRegister(Input=simple.OutputPort(phantom, 1), Target=extracted)
    simple.SetActiveSource(registered)
    simple.Show(registered, view)
    simple.Render(view)
    metal_points = extracted.GetDataInformation().GetNumberOfPoints()
    rms = registered.FieldData["RMSDistance"].GetRange()[0]
    if metal_points == 0 or not rms < 0.5:
        raise RuntimeError("Implant Extract gave %d points, Implant Register RMS %s" % (metal_points, rms))
    # A CT whose values are not named HU (ParaView's own readers say "ImageFile" or "DICOMImage"):
    # a filter made on it once its arrays are known names its real array, not "HU (?)".
    wavelet = simple.Wavelet()
    wavelet.UpdatePipeline()
    other_probe = simple.NormalOffsetProbe(Input=simple.Sphere(Radius=5.0), Source=wavelet)
    other_extract = simple.ImplantExtract(Input=wavelet)
    chosen = (list(other_probe.Scalars), list(other_extract.Scalars), list(probe.Scalars))
    if chosen != (["POINTS", "RTData"], ["POINTS", "RTData"], ["POINTS", "HU"]):
        raise RuntimeError("Scalars on a volume without HU: %s" % (chosen,))
    result.write("Scalars chosen %s\n" % (chosen,))
    result.write("cells %d\nHU range %s\ntable rows %d\nseries %s\nextracted %d points, registered RMS %.3f mm\n"
                 "screenshot %s\nOK\n" % (cells, hu_range, rows, series, metal_points, rms, screenshot))
except Exception:
    result.write(traceback.format_exc())
result.close()
os._exit(0)
