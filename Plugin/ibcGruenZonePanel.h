// The "Gruen Zones" dock panel: the zone diagram of the active Gruen Zone Stats filter, filled by
// a chosen column of its table, kept up to date as the pipeline updates; exports PNG and SVG.
#ifndef ibcGruenZonePanel_h
#define ibcGruenZonePanel_h

#include <QDockWidget>
#include <QPointer>

#include <vtkSmartPointer.h>

class QComboBox;
class QLabel;
class ibcGruenZoneDiagram;
class pqPipelineSource;
class vtkTable;

class ibcGruenZonePanel : public QDockWidget
{
  Q_OBJECT

public:
  explicit ibcGruenZonePanel(QWidget* parent = nullptr);

private Q_SLOTS:
  void followActiveSource(pqPipelineSource* source);
  void forgetSource(pqPipelineSource* source);
  void scheduleRefresh();
  void refresh();
  void showColumn();
  void exportPNG();
  void exportSVG();

private:
  void track(pqPipelineSource* source);
  QString chooseExportFile(const QString& filter);

  QPointer<pqPipelineSource> Source;
  vtkSmartPointer<vtkTable> Table; // the zone table as last fetched
  QLabel* SourceLabel;
  QComboBox* ColumnChoice;
  ibcGruenZoneDiagram* Diagram;
  bool RefreshPending = false;
};

#endif
