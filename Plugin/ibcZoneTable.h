// Brings a filter's small table output (the Gruen Zone Stats table on port 1) to the client,
// in builtin and client-server sessions alike, and reads it as columns by zone.
#ifndef ibcZoneTable_h
#define ibcZoneTable_h

#include <QMap>
#include <QStringList>

#include <vtkSmartPointer.h>

class pqPipelineSource;
class vtkTable;

namespace ibcZoneTable
{
/// The table on `port` of `source` as it is now (no update), from the first rank that holds
/// rows; nullptr if the port holds no table.
vtkSmartPointer<vtkTable> fetch(pqPipelineSource* source, int port);

/// The table's numeric per-zone columns (not Zone or NumberOfPoints), in table order.
QStringList valueColumns(vtkTable* table);

/// `column`'s value by zone number (0 is the whole stem).
QMap<int, double> valuesByZone(vtkTable* table, const QString& column);
}

#endif
