#include "ibcGruenZonePanel.h"

#include "ibcGruenZoneDiagram.h"
#include "ibcZoneTable.h"

#include "pqActiveObjects.h"
#include "pqApplicationCore.h"
#include "pqFileDialog.h"
#include "pqPipelineSource.h"
#include "pqServerManagerModel.h"
#include "vtkSMProxy.h"

#include <vtkTable.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

namespace
{
bool isZoneStats(pqPipelineSource* source)
{
  return source && source->getProxy() &&
    QString(source->getProxy()->GetXMLName()) == QLatin1String("GruenZoneStats");
}
}

ibcGruenZonePanel::ibcGruenZonePanel(QWidget* parent)
  : QDockWidget("Gruen Zones", parent)
{
  this->setObjectName("GruenZonesPanel");
  QWidget* content = new QWidget(this);
  content->setObjectName("GruenZonesContent");
  auto* layout = new QVBoxLayout(content);
  this->SourceLabel = new QLabel(content);
  this->SourceLabel->setObjectName("SourceLabel");
  this->SourceLabel->setWordWrap(true);
  this->ColumnChoice = new QComboBox(content);
  this->ColumnChoice->setObjectName("ColumnChoice");
  this->ColumnChoice->setToolTip("The zone table's column that fills the zones.");
  this->Diagram = new ibcGruenZoneDiagram(content);
  auto* buttons = new QHBoxLayout();
  auto* png = new QPushButton("Export PNG...", content);
  png->setObjectName("ExportPNG");
  auto* svg = new QPushButton("Export SVG...", content);
  svg->setObjectName("ExportSVG");
  buttons->addWidget(png);
  buttons->addWidget(svg);
  layout->addWidget(this->SourceLabel);
  layout->addWidget(this->ColumnChoice);
  layout->addWidget(this->Diagram, 1);
  layout->addLayout(buttons);
  this->setWidget(content);

  QObject::connect(&pqActiveObjects::instance(),
    &pqActiveObjects::sourceChanged,
    this,
    &ibcGruenZonePanel::followActiveSource);
  QObject::connect(pqApplicationCore::instance()->getServerManagerModel(),
    &pqServerManagerModel::preSourceRemoved,
    this,
    &ibcGruenZonePanel::forgetSource);
  QObject::connect(
    this->ColumnChoice, &QComboBox::currentTextChanged, this, &ibcGruenZonePanel::showColumn);
  QObject::connect(png, &QPushButton::clicked, this, &ibcGruenZonePanel::exportPNG);
  QObject::connect(svg, &QPushButton::clicked, this, &ibcGruenZonePanel::exportSVG);
  this->track(nullptr);
  this->followActiveSource(pqActiveObjects::instance().activeSource());
}

void ibcGruenZonePanel::followActiveSource(pqPipelineSource* source)
{
  // Another kind of source becoming active keeps the last zone table on show.
  if (isZoneStats(source) && source != this->Source)
  {
    this->track(source);
  }
}

void ibcGruenZonePanel::forgetSource(pqPipelineSource* source)
{
  if (source == this->Source)
  {
    this->track(nullptr);
  }
}

void ibcGruenZonePanel::track(pqPipelineSource* source)
{
  if (this->Source)
  {
    QObject::disconnect(this->Source, nullptr, this, nullptr);
  }
  this->Source = source;
  if (source)
  {
    QObject::connect(source,
      QOverload<pqPipelineSource*>::of(&pqPipelineSource::dataUpdated),
      this,
      &ibcGruenZonePanel::scheduleRefresh);
  }
  this->refresh();
}

void ibcGruenZonePanel::scheduleRefresh()
{
  // The data mover must not run inside the update that emitted dataUpdated.
  if (!this->RefreshPending)
  {
    this->RefreshPending = true;
    QTimer::singleShot(0, this, &ibcGruenZonePanel::refresh);
  }
}

void ibcGruenZonePanel::refresh()
{
  this->RefreshPending = false;
  this->Table = ibcZoneTable::fetch(this->Source, 1);
  const QStringList columns = ibcZoneTable::valueColumns(this->Table);
  const QString shown = this->ColumnChoice->currentText();
  {
    QSignalBlocker block(this->ColumnChoice);
    this->ColumnChoice->clear();
    this->ColumnChoice->addItems(columns);
    const QString wanted = columns.contains(shown) ? shown : QString("CorticalFraction");
    this->ColumnChoice->setCurrentIndex(std::max(0, columns.indexOf(wanted)));
  }
  if (!this->Source)
  {
    this->SourceLabel->setText("Select a Gruen Zone Stats filter in the Pipeline Browser (or run "
                               "Analyze Implant Contact).");
  }
  else
  {
    this->SourceLabel->setText(this->Table
        ? this->Source->getSMName()
        : QString("%1: no zone table yet (apply it)").arg(this->Source->getSMName()));
  }
  this->showColumn();
}

void ibcGruenZonePanel::showColumn()
{
  const QString column = this->ColumnChoice->currentText();
  if (column.isEmpty())
  {
    this->Diagram->clear();
    return;
  }
  this->Diagram->setValues(column, ibcZoneTable::valuesByZone(this->Table, column));
}

QString ibcGruenZonePanel::chooseExportFile(const QString& filter)
{
  // A local file (nullptr server): the picture is made on the client.
  pqFileDialog dialog(nullptr, this, "Export Gruen Zone Diagram", QString(), filter);
  dialog.setObjectName("GruenZoneExportDialog");
  dialog.setFileMode(pqFileDialog::AnyFile);
  if (dialog.exec() != QDialog::Accepted || dialog.getSelectedFiles().isEmpty())
  {
    return QString();
  }
  return dialog.getSelectedFiles().first();
}

void ibcGruenZonePanel::exportPNG()
{
  const QString path = this->chooseExportFile("PNG image (*.png)");
  if (!path.isEmpty() && !this->Diagram->exportPNG(path))
  {
    QMessageBox::warning(this, "Gruen Zones", QString("Could not write %1.").arg(path));
  }
}

void ibcGruenZonePanel::exportSVG()
{
  const QString path = this->chooseExportFile("SVG image (*.svg)");
  if (!path.isEmpty() && !this->Diagram->exportSVG(path))
  {
    QMessageBox::warning(this, "Gruen Zones", QString("Could not write %1.").arg(path));
  }
}
