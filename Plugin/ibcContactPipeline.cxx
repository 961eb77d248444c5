#include "ibcContactPipeline.h"

#include "pqActiveObjects.h"
#include "pqApplicationCore.h"
#include "pqObjectBuilder.h"
#include "pqOutputPort.h"
#include "pqPipelineSource.h"
#include "pqRenderView.h"
#include "pqServer.h"
#include "pqServerManagerModel.h"
#include "pqSpreadSheetView.h"
#include "pqUndoStack.h"
#include "vtkPVDataInformation.h"
#include "vtkSMPVRepresentationProxy.h"
#include "vtkSMParaViewPipelineControllerWithRendering.h"
#include "vtkSMPropertyHelper.h"
#include "vtkSMSourceProxy.h"
#include "vtkSMTransferFunctionManager.h"
#include "vtkSMViewLayoutProxy.h"
#include "vtkSMViewProxy.h"

#include <vtkDataObject.h>
#include <vtkNew.h>
#include <vtkType.h>

#include <vector>

namespace ibcContactPipeline
{
namespace
{
QList<pqOutputPort*> portsOf(pqServerManagerModelItem* item)
{
  if (auto* port = qobject_cast<pqOutputPort*>(item))
  {
    return { port };
  }
  if (auto* source = qobject_cast<pqPipelineSource*>(item))
  {
    return source->getOutputPorts();
  }
  return {};
}

bool isImage(int dataSetType)
{
  return dataSetType == VTK_IMAGE_DATA || dataSetType == VTK_UNIFORM_GRID ||
    dataSetType == VTK_STRUCTURED_POINTS;
}

pqPipelineSource* applied(pqPipelineSource* filter)
{
  if (filter)
  {
    filter->updatePipeline();
    filter->setModifiedState(pqProxy::UNMODIFIED);
  }
  return filter;
}

pqView* renderViewFor(pqServer* server)
{
  auto* active = qobject_cast<pqRenderView*>(pqActiveObjects::instance().activeView());
  if (active)
  {
    return active;
  }
  pqServerManagerModel* model = pqApplicationCore::instance()->getServerManagerModel();
  const QList<pqRenderView*> views = model->findItems<pqRenderView*>(server);
  if (!views.isEmpty())
  {
    return views.first();
  }
  pqObjectBuilder* builder = pqApplicationCore::instance()->getObjectBuilder();
  pqView* view = builder->createView(pqRenderView::renderViewType(), server);
  builder->addToLayout(view);
  return view;
}

// HU colours with a jump at each class threshold, so soft tissue (blues), cancellous bone
// (yellow to orange) and cortical bone (reds) read apart at a glance.
void applyTissueColourMap(vtkSMProxy* representation, double cancellous, double cortical)
{
  vtkSMPVRepresentationProxy::SetScalarColoring(
    representation, "HU", vtkDataObject::FIELD_ASSOCIATION_POINTS);
  vtkSMProxy* lut = vtkSMPropertyHelper(representation, "LookupTable", true).GetAsProxy();
  if (!lut)
  {
    return;
  }
  const double step = 1e-3 * (cortical - cancellous);
  const std::vector<double> points = { cancellous - 350.0,
    0.05,
    0.19,
    0.45, //
    cancellous - step,
    0.62,
    0.80,
    0.95, //
    cancellous,
    1.00,
    0.93,
    0.45, //
    cortical - step,
    0.96,
    0.55,
    0.10, //
    cortical,
    0.85,
    0.20,
    0.15, //
    cortical + 900.0,
    0.40,
    0.00,
    0.05 };
  vtkSMPropertyHelper(lut, "RGBPoints")
    .Set(points.data(), static_cast<unsigned int>(points.size()));
  vtkSMPropertyHelper(lut, "AutomaticRescaleRangeMode").Set(vtkSMTransferFunctionManager::NEVER);
  lut->UpdateVTKObjects();
}

void showStem(pqPipelineSource* zones,
  pqPipelineSource* classify,
  const QList<pqOutputPort*>& hidden,
  pqView* view)
{
  vtkNew<vtkSMParaViewPipelineControllerWithRendering> controller;
  auto* viewProxy = vtkSMViewProxy::SafeDownCast(view->getProxy());
  for (pqOutputPort* port : hidden)
  {
    controller->Hide(port->getSourceProxy(), port->getPortNumber(), viewProxy);
  }
  vtkSMProxy* representation = controller->Show(zones->getSourceProxy(), 0, viewProxy);
  if (representation)
  {
    applyTissueColourMap(representation,
      vtkSMPropertyHelper(classify->getProxy(), "CancellousThreshold").GetAsDouble(),
      vtkSMPropertyHelper(classify->getProxy(), "CorticalThreshold").GetAsDouble());
    vtkSMPVRepresentationProxy::SetScalarBarVisibility(representation, viewProxy, true);
    representation->UpdateVTKObjects();
  }
  if (auto* renderView = qobject_cast<pqRenderView*>(view))
  {
    // The AP view of a radiograph: seen from anterior (LPS -y), superior up.
    renderView->resetViewDirection(0, 1, 0, 0, 0, 1);
  }
  view->render();
}

// The zone table in a spreadsheet below the render view (in the same layout tab).
void showTable(pqPipelineSource* zones, pqView* renderView)
{
  pqObjectBuilder* builder = pqApplicationCore::instance()->getObjectBuilder();
  pqView* sheet =
    builder->createView(pqSpreadSheetView::spreadsheetViewType(), renderView->getServer());
  if (!sheet)
  {
    return;
  }
  auto* renderProxy = vtkSMViewProxy::SafeDownCast(renderView->getProxy());
  vtkSMViewLayoutProxy* layout = vtkSMViewLayoutProxy::FindLayout(renderProxy);
  const int location = layout ? layout->GetViewLocation(renderProxy) : -1;
  if (location >= 0)
  {
    const int child = layout->SplitVertical(location, 0.62);
    layout->AssignView(child + 1, sheet->getViewProxy());
  }
  else
  {
    builder->addToLayout(sheet);
  }
  vtkNew<vtkSMParaViewPipelineControllerWithRendering> controller;
  controller->Show(zones->getSourceProxy(), 1, sheet->getViewProxy());
  sheet->render();
}
} // namespace

Inputs chooseInputs(const QList<pqServerManagerModelItem*>& selected)
{
  Inputs inputs;
  QList<pqOutputPort*> images, surfaces;
  for (pqServerManagerModelItem* item : selected)
  {
    for (pqOutputPort* port : portsOf(item))
    {
      const int type = port->getDataInformation()->GetDataSetType();
      if (isImage(type))
      {
        images << port;
      }
      else if (type == VTK_POLY_DATA)
      {
        surfaces << port;
      }
    }
  }
  if (images.size() != 1)
  {
    inputs.Problem = images.isEmpty()
      ? QString("Select a CT volume (image data, applied) in the Pipeline Browser, and with it "
                "(Ctrl+click) the implant surface; with a CT alone the implant is extracted "
                "from the CT.")
      : QString("%1 image outputs are selected: select one CT.").arg(images.size());
    return inputs;
  }
  if (surfaces.size() > 1)
  {
    inputs.Problem = QString("%1 surfaces are selected: select one implant surface with the CT.")
                       .arg(surfaces.size());
    return inputs;
  }
  inputs.CT = images.first();
  inputs.Surface = surfaces.isEmpty() ? nullptr : surfaces.first();
  return inputs;
}

pqPipelineSource* build(const Inputs& inputs)
{
  if (!inputs.CT)
  {
    return nullptr;
  }
  pqScopedUndoSet undo("Analyze Implant Contact");
  pqObjectBuilder* builder = pqApplicationCore::instance()->getObjectBuilder();
  pqServer* server = inputs.CT->getServer();
  QList<pqOutputPort*> hidden = { inputs.CT };
  pqOutputPort* surface = inputs.Surface;
  if (surface)
  {
    hidden << surface;
  }
  else
  {
    pqPipelineSource* extract = applied(builder->createFilter(
      "filters", "ImplantExtract", inputs.CT->getSource(), inputs.CT->getPortNumber()));
    surface = extract ? extract->getOutputPort(0) : nullptr;
  }
  pqPipelineSource* remesh = surface
    ? applied(builder->createFilter(
        "filters", "ImplantRemesh", surface->getSource(), surface->getPortNumber()))
    : nullptr;
  if (!remesh)
  {
    return nullptr;
  }
  QMap<QString, QList<pqOutputPort*>> probeInputs;
  probeInputs["Input"] = { remesh->getOutputPort(0) };
  probeInputs["Source"] = { inputs.CT };
  pqPipelineSource* probe =
    applied(builder->createFilter("filters", "NormalOffsetProbe", probeInputs, server));
  pqPipelineSource* classify =
    probe ? applied(builder->createFilter("filters", "CorticalClassify", probe)) : nullptr;
  pqPipelineSource* zones =
    classify ? applied(builder->createFilter("filters", "GruenZoneStats", classify)) : nullptr;
  if (!zones)
  {
    return nullptr;
  }
  pqView* view = renderViewFor(server);
  showStem(zones, classify, hidden, view);
  showTable(zones, view);
  pqActiveObjects::instance().setActiveView(view);
  pqActiveObjects::instance().setActiveSource(zones);
  return zones;
}
}
