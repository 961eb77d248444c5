// SPDX-License-Identifier: BSD-3-Clause
#include "vtkGruenZoneStats.h"

#include "ibcCollective.h"
#include "ibcContactStatistics.h"
#include "ibcNormalProbe.h"
#include "ibcSurfaceArrays.h"

#include <vtkDataArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkInformation.h>
#include <vtkInformationVector.h>
#include <vtkIntArray.h>
#include <vtkMultiProcessController.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkStringArray.h>
#include <vtkTable.h>
#include <vtkTypeInt64Array.h>
#include <vtkUnsignedCharArray.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

vtkStandardNewMacro(vtkGruenZoneStats);
vtkCxxSetObjectMacro(vtkGruenZoneStats, Controller, vtkMultiProcessController);

namespace contact = ibc::contact;

namespace
{
/// A point array's first components, sized to the surface, when any rank's input has it
/// (`present` says whether it does); empty otherwise, the same on every rank.
std::vector<double> agreedPointArray(vtkPolyData* input,
  const char* name,
  const ibc::Collective& comm,
  double missing,
  bool& present)
{
  vtkDataArray* array = input->GetPointData()->GetArray(name);
  double found = array ? 1.0 : 0.0;
  comm.maximum(&found, 1);
  present = found > 0.0;
  std::vector<double> values = ibc::firstComponent(array);
  values.resize(present ? static_cast<std::size_t>(input->GetNumberOfPoints()) : 0, missing);
  return values;
}

/// The per-zone table: one row per zone (on the rank that holds the rows), the interface and
/// confidence columns when the probe made them.
void fillZoneTable(vtkTable* table,
  const std::vector<contact::ZoneRow>& rows,
  const std::string& name,
  bool withInterface,
  bool withConfidence,
  bool holdsRows)
{
  using Field = double contact::ZoneRow::*;
  std::vector<std::pair<std::string, Field>> fields = { { "Area", &contact::ZoneRow::area },
    { name + "Min", &contact::ZoneRow::minimum }, { name + "Max", &contact::ZoneRow::maximum },
    { name + "Mean", &contact::ZoneRow::mean },
    { name + "Std", &contact::ZoneRow::standardDeviation },
    { name + "Median", &contact::ZoneRow::median },
    { "CorticalFraction", &contact::ZoneRow::corticalFraction },
    { "CancellousFraction", &contact::ZoneRow::cancellousFraction },
    { "SoftTissueFraction", &contact::ZoneRow::softTissueFraction },
    { "ValidFraction", &contact::ZoneRow::validFraction } };
  if (withInterface)
  {
    fields.insert(fields.end(),
      { { "InterfaceWidthMean", &contact::ZoneRow::interfaceWidthMean },
        { "InterfaceOver1mmFraction", &contact::ZoneRow::interfaceOver1mmFraction },
        { "InterfaceOver2mmFraction", &contact::ZoneRow::interfaceOver2mmFraction } });
  }
  if (withConfidence)
  {
    fields.emplace_back("ConfidentFraction", &contact::ZoneRow::confidentFraction);
  }
  const std::vector<contact::ZoneRow> none;
  const std::vector<contact::ZoneRow>& shown = holdsRows ? rows : none;
  vtkNew<vtkIntArray> zoneColumn;
  zoneColumn->SetName("Zone");
  vtkNew<vtkTypeInt64Array> countColumn;
  countColumn->SetName("NumberOfPoints");
  for (const contact::ZoneRow& row : shown)
  {
    zoneColumn->InsertNextValue(row.zone);
    countColumn->InsertNextValue(row.numberOfPoints);
  }
  table->AddColumn(zoneColumn);
  table->AddColumn(countColumn);
  for (const auto& field : fields)
  {
    vtkNew<vtkDoubleArray> column;
    column->SetName(field.first.c_str());
    for (const contact::ZoneRow& row : shown)
    {
      column->InsertNextValue(row.*field.second);
    }
    table->AddColumn(column);
  }
}
/// The stem's frame in the field data, for the pictures and the report.
void addFrame(vtkFieldData* fieldData, const contact::StemFrame& frame, double tipZoneLength)
{
  fieldData->AddArray(ibc::fieldVector("StemTipPoint", frame.tip));
  fieldData->AddArray(ibc::fieldVector("StemAxisDirection", frame.axis));
  fieldData->AddArray(ibc::fieldVector("StemMedialDirection", frame.medial));
  fieldData->AddArray(ibc::fieldVector("StemAnteriorDirection", frame.anterior));
  fieldData->AddArray(ibc::fieldScalar("ProximalLimit", frame.proximalLimit));
  fieldData->AddArray(ibc::fieldScalar("TipZoneLength", tipZoneLength));
  fieldData->AddArray(ibc::fieldScalar("StemHeight", frame.height));
  vtkNew<vtkStringArray> sideArray;
  sideArray->SetName("Side");
  sideArray->InsertNextValue(frame.rightSide ? "Right" : "Left");
  fieldData->AddArray(sideArray);
}

/// The table's rows: the whole stem (0), then the zones of the chosen views.
std::vector<int> tableZones(contact::ZoneSet zoneSet)
{
  std::vector<int> zones{ 0 };
  const int firstZone = zoneSet == contact::ZoneSet::Lateral ? 8 : 1;
  const int lastZone = zoneSet == contact::ZoneSet::AnteroPosterior ? 7 : 14;
  for (int zone = firstZone; zone <= lastZone; ++zone)
  {
    zones.push_back(zone);
  }
  return zones;
}
} // namespace

vtkGruenZoneStats::vtkGruenZoneStats()
{
  this->SetNumberOfOutputPorts(2);
  this->SetController(vtkMultiProcessController::GetGlobalController());
  this->SetInputArrayToProcess(0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "HU");
}

vtkGruenZoneStats::~vtkGruenZoneStats()
{
  this->SetController(nullptr);
}

int vtkGruenZoneStats::FillOutputPortInformation(int port, vtkInformation* info)
{
  info->Set(vtkDataObject::DATA_TYPE_NAME(), port == 0 ? "vtkPolyData" : "vtkTable");
  return 1;
}

contact::FrameOverrides vtkGruenZoneStats::FrameSettings() const
{
  contact::FrameOverrides overrides;
  overrides.useAxis = this->UseAxisDirection;
  overrides.axis = { this->AxisDirection[0], this->AxisDirection[1], this->AxisDirection[2] };
  overrides.useMedial = this->UseMedialDirection;
  overrides.medial = {
    this->MedialDirection[0], this->MedialDirection[1], this->MedialDirection[2]
  };
  overrides.side = this->Side;
  overrides.proximalLimit = this->ProximalLimit;
  return overrides;
}

int vtkGruenZoneStats::RequestData(vtkInformation*,
  vtkInformationVector** inputVector,
  vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  vtkTable* table = vtkTable::GetData(outputVector, 1);
  output->ShallowCopy(input);
  const ibc::Collective comm(this->Controller);

  vtkDataArray* tissueArray = input->GetPointData()->GetArray("TissueClass");
  vtkDataArray* valueArray = this->GetInputArrayToProcess(0, inputVector);
  if (!valueArray)
  {
    valueArray = input->GetPointData()->GetScalars();
  }
  if (!valueArray)
  {
    valueArray = input->GetPointData()->GetArray("HU"); // what Normal Offset Probe writes on a CT
  }
  const bool empty = input->GetNumberOfPoints() == 0;
  if (!comm.minimum(empty || tissueArray ? 1 : 0))
  {
    vtkErrorMacro("The surface has no TissueClass array: run Cortical Classify first.");
    return 0;
  }
  if (!comm.minimum(empty || valueArray ? 1 : 0))
  {
    vtkErrorMacro("The surface has no value array to summarise: select one in Scalars (e.g. HU).");
    return 0;
  }

  std::vector<ibc::Vec3> points;
  std::vector<ibc::probe::Triangle> triangles;
  ibc::surfaceToArrays(input, points, triangles);
  std::int64_t notFinite = ibc::countNonFinite(points);
  comm.sum(&notFinite, 1);
  if (notFinite > 0)
  {
    vtkErrorMacro("The surface cannot be used: " << ibc::nonFinitePointsProblem(notFinite) << ".");
    return 0;
  }
  const std::vector<double> areas = contact::vertexAreas(points, triangles);
  std::vector<ibc::Vec3> normals = ibc::vectors(input->GetPointData()->GetNormals());
  if (!comm.minimum(normals.size() == points.size() ? 1 : 0))
  {
    normals = ibc::probe::computeOutwardNormals(points, triangles, comm);
  }
  this->UpdateProgress(0.2);

  const contact::StemFrame frame =
    contact::findStemFrame(points, triangles, areas, this->FrameSettings(), comm);
  if (!frame.valid)
  {
    vtkErrorMacro("Cannot find the stem's frame: " << frame.problem << ".");
    return 0;
  }
  this->UpdateProgress(0.5);

  const auto zoneSet = static_cast<contact::ZoneSet>(this->ZoneSet);
  std::vector<int> zones(points.size());
  vtkNew<vtkUnsignedCharArray> zoneArray;
  zoneArray->SetName("GruenZone");
  zoneArray->SetNumberOfTuples(static_cast<vtkIdType>(points.size()));
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    zones[i] = contact::zoneOf(points[i], normals[i], frame, this->TipZoneLength, zoneSet);
    zoneArray->SetValue(static_cast<vtkIdType>(i), static_cast<unsigned char>(zones[i]));
  }
  output->GetPointData()->AddArray(zoneArray);
  addFrame(output->GetFieldData(), frame, this->TipZoneLength);

  // The table.
  std::vector<double> values = ibc::firstComponent(valueArray);
  values.resize(points.size(), std::numeric_limits<double>::quiet_NaN());
  std::vector<std::uint8_t> classes(points.size(), contact::NotSampled);
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    classes[i] = static_cast<std::uint8_t>(tissueArray->GetComponent(static_cast<vtkIdType>(i), 0));
  }
  const std::vector<char> owned = ibc::ownedPoints(points,
    ibc::probe::openEdgeVertices(static_cast<std::int64_t>(points.size()), triangles),
    comm);
  const std::vector<int> zoneList = tableZones(zoneSet);
  // The probe's interface widths and confidences, where the metal-corrected mode made them.
  bool withWidths = false;
  bool withConfidences = false;
  const std::vector<double> widths =
    agreedPointArray(input, "InterfaceWidth", comm, std::numeric_limits<double>::quiet_NaN(), withWidths);
  const std::vector<double> confidences =
    agreedPointArray(input, "SampleConfidence", comm, 0.0, withConfidences);
  const std::vector<contact::ZoneRow> rows = contact::zoneStatistics(
    zones, values, classes, areas, owned, zoneList, comm, widths, confidences);

  // Every rank computes the table; only rank 0 outputs it, so that writers that concatenate
  // the ranks' rows (Save Data under MPI) write it once.
  const std::string name = valueArray && valueArray->GetName() ? valueArray->GetName() : "Value";
  fillZoneTable(table, rows, name, withWidths, withConfidences, comm.rank() == 0);
  this->UpdateProgress(1.0);
  return 1;
}

void vtkGruenZoneStats::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Side: " << this->Side << "\n";
  os << indent << "ProximalLimit: " << this->ProximalLimit << "\n";
  os << indent << "TipZoneLength: " << this->TipZoneLength << "\n";
  os << indent << "ZoneSet: " << this->ZoneSet << "\n";
}
