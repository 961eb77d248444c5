#include "ibcZoneTable.h"

#include "pqOutputPort.h"
#include "pqPipelineSource.h"
#include "pqServer.h"
#include "vtkPVDataMover.h"
#include "vtkSMPropertyHelper.h"
#include "vtkSMProxy.h"
#include "vtkSMSessionProxyManager.h"

#include <vtkAbstractArray.h>
#include <vtkDataArray.h>
#include <vtkTable.h>

namespace ibcZoneTable
{
vtkSmartPointer<vtkTable> fetch(pqPipelineSource* source, int port)
{
  if (!source || port >= source->getNumberOfOutputPorts())
  {
    return nullptr;
  }
  // misc/DataMover is what simple.FetchData uses: it moves the data of every rank to the
  // client, which GetClientSideObject() of the filter itself cannot do in client-server.
  vtkSMSessionProxyManager* proxyManager = source->getServer()->proxyManager();
  vtkSmartPointer<vtkSMProxy> mover;
  mover.TakeReference(proxyManager->NewProxy("misc", "DataMover"));
  if (!mover)
  {
    return nullptr;
  }
  vtkSMPropertyHelper(mover, "Producer").Set(source->getProxy());
  vtkSMPropertyHelper(mover, "PortNumber").Set(port);
  vtkSMPropertyHelper(mover, "SkipEmptyDataSets").Set(1);
  mover->UpdateVTKObjects();
  mover->InvokeCommand("Execute");
  auto* moved = vtkPVDataMover::SafeDownCast(mover->GetClientSideObject());
  for (unsigned int i = 0; moved && i < moved->GetNumberOfDataSets(); ++i)
  {
    // The zone table lives on one rank only; the other ranks hold empty tables.
    vtkTable* table = vtkTable::SafeDownCast(moved->GetDataSetAtIndex(i));
    if (table && table->GetNumberOfRows() > 0)
    {
      return table;
    }
  }
  return nullptr;
}

QStringList valueColumns(vtkTable* table)
{
  QStringList names;
  for (vtkIdType c = 0; table && c < table->GetNumberOfColumns(); ++c)
  {
    const QString name = table->GetColumnName(c);
    if (vtkDataArray::SafeDownCast(table->GetColumn(c)) && name != "Zone" &&
      name != "NumberOfPoints")
    {
      names << name;
    }
  }
  return names;
}

QMap<int, double> valuesByZone(vtkTable* table, const QString& column)
{
  QMap<int, double> values;
  vtkDataArray* zones =
    table ? vtkDataArray::SafeDownCast(table->GetColumnByName("Zone")) : nullptr;
  vtkDataArray* data = table
    ? vtkDataArray::SafeDownCast(table->GetColumnByName(column.toUtf8().constData()))
    : nullptr;
  for (vtkIdType row = 0; zones && data && row < table->GetNumberOfRows(); ++row)
  {
    values.insert(int(zones->GetTuple1(row)), data->GetTuple1(row));
  }
  return values;
}
}
