#include "ibcAnalyzeContactActions.h"

#include "ibcContactPipeline.h"
#include "ibcGruenZonePanel.h"

#include "pqActiveObjects.h"
#include "pqCoreUtilities.h"

#include <QAction>
#include <QMessageBox>

ibcAnalyzeContactActions::ibcAnalyzeContactActions(QObject* parent)
  : QActionGroup(parent)
{
  this->setExclusive(false);
  QAction* action = new QAction("Analyze Implant Contact", this);
  action->setObjectName("AnalyzeImplantContact");
  action->setToolTip(
    "Analyze Implant Contact: remesh the implant, sample the CT along its normals, "
    "classify the tissue and report it by Gruen zone.\nSelect a CT and the implant "
    "surface (or a CT alone, to extract the implant from it).");
  this->addAction(action);
  QObject::connect(action, &QAction::triggered, this, &ibcAnalyzeContactActions::analyze);
}

void ibcAnalyzeContactActions::analyze()
{
  const pqProxySelection& selection = pqActiveObjects::instance().selection();
  QList<pqServerManagerModelItem*> items(selection.begin(), selection.end());
  if (items.isEmpty() && pqActiveObjects::instance().activeSource())
  {
    items << pqActiveObjects::instance().activeSource();
  }
  const ibcContactPipeline::Inputs inputs = ibcContactPipeline::chooseInputs(items);
  if (!inputs.Problem.isEmpty())
  {
    QMessageBox::warning(pqCoreUtilities::mainWidget(), "Analyze Implant Contact", inputs.Problem);
    return;
  }
  if (!ibcContactPipeline::build(inputs))
  {
    QMessageBox::warning(pqCoreUtilities::mainWidget(),
      "Analyze Implant Contact",
      "The contact chain could not be built: see the Output Messages window.");
    return;
  }
  // What the user looks at next: the zone diagram of the new Gruen Zone Stats.
  if (auto* panel = pqCoreUtilities::mainWidget()->findChild<ibcGruenZonePanel*>())
  {
    panel->show();
    panel->raise();
  }
}
