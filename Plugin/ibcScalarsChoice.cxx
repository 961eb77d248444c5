#include "ibcScalarsChoice.h"

#include <pqApplicationCore.h>
#include <pqPipelineSource.h>
#include <pqServerManagerModel.h>
#include <vtkSMArrayListDomain.h>
#include <vtkSMProperty.h>
#include <vtkSMPropertyHelper.h>
#include <vtkSMProxy.h>

#include <cstring>
#include <string>

namespace
{
// The filters of this plugin that read a volume or point array through "SelectInputScalars".
bool isOurs(vtkSMProxy* proxy)
{
  static const char* const names[] = {
    "NormalOffsetProbe", "CorticalClassify", "GruenZoneStats", "ImplantExtract"
  };
  const char* group = proxy->GetXMLGroup();
  const char* name = proxy->GetXMLName();
  if (!group || !name || std::strcmp(group, "filters") != 0)
  {
    return false;
  }
  for (const char* ours : names)
  {
    if (std::strcmp(name, ours) == 0)
    {
      return true;
    }
  }
  return false;
}
}

ibcScalarsChoice::ibcScalarsChoice(QObject* parent)
  : QObject(parent)
{
}

void ibcScalarsChoice::startup()
{
  pqServerManagerModel* model = pqApplicationCore::instance()->getServerManagerModel();
  QObject::connect(
    model, &pqServerManagerModel::sourceAdded, this, &ibcScalarsChoice::chooseScalars);
}

void ibcScalarsChoice::chooseScalars(pqPipelineSource* source)
{
  vtkSMProxy* proxy = source ? source->getProxy() : nullptr;
  vtkSMProperty* property =
    proxy && isOurs(proxy) ? proxy->GetProperty("SelectInputScalars") : nullptr;
  auto* domain = property ? property->FindDomain<vtkSMArrayListDomain>() : nullptr;
  if (!domain || domain->GetNumberOfStrings() == 0)
  {
    return; // the input has not run yet: the filter itself warns and reads its active scalars
  }
  const char* chosen = vtkSMPropertyHelper(property).GetInputArrayNameToProcess();
  for (unsigned int i = 0; i < domain->GetNumberOfStrings(); ++i)
  {
    if (chosen && std::string(chosen) == domain->GetString(i))
    {
      return;
    }
  }
  domain->SetDefaultValues(property, false);
  proxy->UpdateVTKObjects();
}
