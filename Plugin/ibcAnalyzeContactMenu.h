// The "Analyze Implant Contact" action in the "Implant Bone Contact" menu (ParaView makes one
// toolbar or menu per action-group class, hence a class for each place).
#ifndef ibcAnalyzeContactMenu_h
#define ibcAnalyzeContactMenu_h

#include "ibcAnalyzeContactActions.h"

class ibcAnalyzeContactMenu : public ibcAnalyzeContactActions
{
public:
  explicit ibcAnalyzeContactMenu(QObject* parent)
    : ibcAnalyzeContactActions(parent)
  {
  }
};

#endif
