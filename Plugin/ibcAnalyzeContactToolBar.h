// The "Analyze Implant Contact" action in its own toolbar (ParaView makes one toolbar or menu
// per action-group class, hence a class for each place).
#ifndef ibcAnalyzeContactToolBar_h
#define ibcAnalyzeContactToolBar_h

#include "ibcAnalyzeContactActions.h"

class ibcAnalyzeContactToolBar : public ibcAnalyzeContactActions
{
public:
  explicit ibcAnalyzeContactToolBar(QObject* parent)
    : ibcAnalyzeContactActions(parent)
  {
  }
};

#endif
