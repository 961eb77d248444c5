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

vtkStandardNewMacro(vtkGruenZoneStats);
vtkCxxSetObjectMacro(vtkGruenZoneStats, Controller, vtkMultiProcessController);

namespace contact = ibc::contact;

namespace
{
vtkSmartPointer<vtkDoubleArray> column(const std::string& name)
{
  auto array = vtkSmartPointer<vtkDoubleArray>::New();
  array->SetName(name.c_str());
  return array;
}
}

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

  contact::FrameOverrides overrides;
  overrides.useAxis = this->UseAxisDirection;
  overrides.axis = { this->AxisDirection[0], this->AxisDirection[1], this->AxisDirection[2] };
  overrides.useMedial = this->UseMedialDirection;
  overrides.medial = {
    this->MedialDirection[0], this->MedialDirection[1], this->MedialDirection[2]
  };
  overrides.side = this->Side;
  overrides.proximalLimit = this->ProximalLimit;
  const contact::StemFrame frame =
    contact::findStemFrame(points, triangles, areas, overrides, comm);
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
  vtkFieldData* fieldData = output->GetFieldData();
  fieldData->AddArray(ibc::fieldVector("StemTipPoint", frame.tip));
  fieldData->AddArray(ibc::fieldVector("StemAxisDirection", frame.axis));
  fieldData->AddArray(ibc::fieldVector("StemMedialDirection", frame.medial));
  fieldData->AddArray(ibc::fieldVector("StemAnteriorDirection", frame.anterior));
  fieldData->AddArray(ibc::fieldScalar("ProximalLimit", frame.proximalLimit));
  fieldData->AddArray(ibc::fieldScalar("TipZoneLength", this->TipZoneLength));
  fieldData->AddArray(ibc::fieldScalar("StemHeight", frame.height));
  vtkNew<vtkStringArray> sideArray;
  sideArray->SetName("Side");
  sideArray->InsertNextValue(frame.rightSide ? "Right" : "Left");
  fieldData->AddArray(sideArray);

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
  std::vector<int> zoneList{ 0 };
  const int firstZone = zoneSet == contact::ZoneSet::Lateral ? 8 : 1;
  const int lastZone = zoneSet == contact::ZoneSet::AnteroPosterior ? 7 : 14;
  for (int zone = firstZone; zone <= lastZone; ++zone)
  {
    zoneList.push_back(zone);
  }
  // The probe's interface widths and confidences, where the metal-corrected mode made them.
  vtkDataArray* widthArray = input->GetPointData()->GetArray("InterfaceWidth");
  vtkDataArray* confidenceArray = input->GetPointData()->GetArray("SampleConfidence");
  double present[2] = { widthArray ? 1.0 : 0.0, confidenceArray ? 1.0 : 0.0 };
  comm.maximum(present, 2);
  std::vector<double> widths = ibc::firstComponent(widthArray);
  std::vector<double> confidences = ibc::firstComponent(confidenceArray);
  widths.resize(present[0] > 0.0 ? points.size() : 0, std::numeric_limits<double>::quiet_NaN());
  confidences.resize(present[1] > 0.0 ? points.size() : 0, 0.0);
  const std::vector<contact::ZoneRow> rows = contact::zoneStatistics(
    zones, values, classes, areas, owned, zoneList, comm, widths, confidences);

  // Every rank computes the table; only rank 0 outputs it, so that writers that concatenate
  // the ranks' rows (Save Data under MPI) write it once.
  const std::string name = valueArray && valueArray->GetName() ? valueArray->GetName() : "Value";
  vtkNew<vtkIntArray> zoneColumn;
  zoneColumn->SetName("Zone");
  vtkNew<vtkTypeInt64Array> countColumn;
  countColumn->SetName("NumberOfPoints");
  auto area = column("Area");
  auto minimum = column(name + "Min");
  auto maximum = column(name + "Max");
  auto mean = column(name + "Mean");
  auto deviation = column(name + "Std");
  auto median = column(name + "Median");
  auto cortical = column("CorticalFraction");
  auto cancellous = column("CancellousFraction");
  auto soft = column("SoftTissueFraction");
  auto valid = column("ValidFraction");
  auto widthMean = column("InterfaceWidthMean");
  auto over1 = column("InterfaceOver1mmFraction");
  auto over2 = column("InterfaceOver2mmFraction");
  auto confident = column("ConfidentFraction");
  if (comm.rank() == 0)
  {
    for (const contact::ZoneRow& row : rows)
    {
      zoneColumn->InsertNextValue(row.zone);
      countColumn->InsertNextValue(row.numberOfPoints);
      area->InsertNextValue(row.area);
      minimum->InsertNextValue(row.minimum);
      maximum->InsertNextValue(row.maximum);
      mean->InsertNextValue(row.mean);
      deviation->InsertNextValue(row.standardDeviation);
      median->InsertNextValue(row.median);
      cortical->InsertNextValue(row.corticalFraction);
      cancellous->InsertNextValue(row.cancellousFraction);
      soft->InsertNextValue(row.softTissueFraction);
      valid->InsertNextValue(row.validFraction);
      widthMean->InsertNextValue(row.interfaceWidthMean);
      over1->InsertNextValue(row.interfaceOver1mmFraction);
      over2->InsertNextValue(row.interfaceOver2mmFraction);
      confident->InsertNextValue(row.confidentFraction);
    }
  }
  table->AddColumn(zoneColumn);
  table->AddColumn(countColumn);
  for (vtkDoubleArray* c : { area.Get(),
         minimum.Get(),
         maximum.Get(),
         mean.Get(),
         deviation.Get(),
         median.Get(),
         cortical.Get(),
         cancellous.Get(),
         soft.Get(),
         valid.Get() })
  {
    table->AddColumn(c);
  }
  if (present[0] > 0.0)
  {
    for (vtkDoubleArray* c : { widthMean.Get(), over1.Get(), over2.Get() })
    {
      table->AddColumn(c);
    }
  }
  if (present[1] > 0.0)
  {
    table->AddColumn(confident);
  }
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
