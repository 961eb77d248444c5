// Builds the contact chain in the GUI: Implant Remesh -> Normal Offset Probe -> Cortical
// Classify -> Gruen Zone Stats (with Implant Extract first when only a CT is given), runs it,
// shows the stem coloured by HU with a map that tells the tissue classes apart, and opens the
// zone table in a spreadsheet next to the render view.
#ifndef ibcContactPipeline_h
#define ibcContactPipeline_h

#include <QList>
#include <QString>

class pqOutputPort;
class pqPipelineSource;
class pqServerManagerModelItem;
class pqView;

namespace ibcContactPipeline
{
struct Inputs
{
  pqOutputPort* CT = nullptr;      // image data in HU
  pqOutputPort* Surface = nullptr; // the implant surface; nullptr: extract it from the CT
  QString Problem;                 // why no chain can be built, empty when it can
};

/// Picks the CT (the image output) and the implant surface (the polygonal output) among the
/// selected pipeline items and all their output ports, e.g. THA Phantom's two ports.
Inputs chooseInputs(const QList<pqServerManagerModelItem*>& selected);

/// Creates, applies and shows the chain; returns Gruen Zone Stats (nullptr on failure).
pqPipelineSource* build(const Inputs& inputs);
}

#endif
