// The toolbar button and menu entry "Analyze Implant Contact": builds the contact chain from
// the CT and implant surface selected in the Pipeline Browser (see ibcContactPipeline).
#ifndef ibcAnalyzeContactActions_h
#define ibcAnalyzeContactActions_h

#include <QActionGroup>

class ibcAnalyzeContactActions : public QActionGroup
{
  Q_OBJECT

public:
  explicit ibcAnalyzeContactActions(QObject* parent);

private Q_SLOTS:
  void analyze();
};

#endif
