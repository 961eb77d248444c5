// SPDX-License-Identifier: BSD-3-Clause
#include "vtkCorticalClassify.h"

#include "ibcCollective.h"
#include "ibcContactStatistics.h"
#include "ibcSurfaceArrays.h"

#include <vtkDataArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkInformation.h>
#include <vtkInformationVector.h>
#include <vtkMultiProcessController.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkStringArray.h>
#include <vtkUnsignedCharArray.h>

#include <algorithm>
#include <cmath>
#include <limits>

vtkStandardNewMacro(vtkCorticalClassify);
vtkCxxSetObjectMacro(vtkCorticalClassify, Controller, vtkMultiProcessController);

namespace contact = ibc::contact;

namespace
{
const char* presetName(int preset)
{
  switch (preset)
  {
    case vtkCorticalClassify::PEDICLE_SCREW_PLANNER:
      return "Pedicle Screw Planner (130 / 250 HU)";
    case vtkCorticalClassify::MIMICS_ADULT:
      return "Mimics adult bone (148 / 662 HU)";
    case vtkCorticalClassify::CT_MIDPOINTS:
      return "CT midpoints (150 / 700 HU)";
    default:
      return "Custom";
  }
}

/// The values to classify, NaN where the probe's vtkValidPointMask says the sample is not valid.
std::vector<double> sampledValues(vtkDataArray* valueArray, vtkPolyData* input, std::size_t count)
{
  std::vector<double> values = ibc::firstComponent(valueArray);
  values.resize(count, std::numeric_limits<double>::quiet_NaN());
  if (vtkDataArray* mask = input->GetPointData()->GetArray("vtkValidPointMask"))
  {
    for (std::size_t i = 0; i < values.size(); ++i)
    {
      if (mask->GetComponent(static_cast<vtkIdType>(i), 0) == 0.0)
      {
        values[i] = std::numeric_limits<double>::quiet_NaN();
      }
    }
  }
  return values;
}
} // namespace

vtkCorticalClassify::vtkCorticalClassify()
{
  this->SetController(vtkMultiProcessController::GetGlobalController());
  this->SetInputArrayToProcess(
    0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, vtkDataSetAttributes::SCALARS);
}

vtkCorticalClassify::~vtkCorticalClassify()
{
  this->SetController(nullptr);
}

int vtkCorticalClassify::RequestData(vtkInformation*,
  vtkInformationVector** inputVector,
  vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  output->ShallowCopy(input);
  const ibc::Collective comm(this->Controller);

  vtkDataArray* valueArray = this->GetInputArrayToProcess(0, inputVector);
  if (!valueArray)
  {
    valueArray = input->GetPointData()->GetScalars();
  }
  if (!valueArray && input->GetPointData()->GetArray("HU"))
  {
    valueArray = input->GetPointData()->GetArray("HU");
  }
  const int haveValues = comm.minimum(valueArray || input->GetNumberOfPoints() == 0 ? 1 : 0);
  if (!haveValues)
  {
    vtkErrorMacro("The surface has no sampled values to classify: run Normal Offset Probe first "
                  "and select its array (e.g. HU) in Scalars.");
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
  const std::vector<double> values = sampledValues(valueArray, input, points.size());
  this->UpdateProgress(0.2);

  // Thresholds.
  contact::Thresholds thresholds{ this->CancellousThreshold, this->CorticalThreshold };
  std::string source = presetName(this->Preset);
  if (this->Preset != CUSTOM)
  {
    thresholds = contact::presetThresholds(static_cast<contact::Preset>(this->Preset));
  }
  if (this->AutomaticThresholds)
  {
    contact::Thresholds derived;
    if (contact::automaticThresholds(values, areas, comm, derived))
    {
      thresholds = derived;
      source = "Automatic (three-class Otsu on the sampled values)";
    }
    else if (comm.rank() == 0)
    {
      vtkWarningMacro("No valid sample to derive thresholds from; using " << source << ".");
    }
  }
  if (!(thresholds.cancellous < thresholds.cortical))
  {
    vtkErrorMacro("Cancellous Threshold ("
      << thresholds.cancellous << " HU) must be below Cortical Threshold (" << thresholds.cortical
      << " HU).");
    output->Initialize(); // nothing labelled from thresholds that make no sense
    return 0;
  }

  std::vector<std::uint8_t> classes(points.size());
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    classes[i] = contact::classify(values[i], thresholds);
  }
  this->UpdateProgress(0.5);

  if (this->SmoothingRadius > 0.0)
  {
    classes = contact::majorityVoteAcrossRanks(points, classes, areas, this->SmoothingRadius, comm);
  }

  vtkNew<vtkUnsignedCharArray> tissue;
  tissue->SetName("TissueClass");
  tissue->SetNumberOfTuples(static_cast<vtkIdType>(classes.size()));
  std::copy(classes.begin(), classes.end(), tissue->GetPointer(0));
  output->GetPointData()->AddArray(tissue);
  output->GetFieldData()->AddArray(ibc::fieldScalar("CancellousThreshold", thresholds.cancellous));
  output->GetFieldData()->AddArray(ibc::fieldScalar("CorticalThreshold", thresholds.cortical));
  vtkNew<vtkStringArray> sourceArray;
  sourceArray->SetName("ThresholdSource");
  sourceArray->InsertNextValue(source);
  output->GetFieldData()->AddArray(sourceArray);
  this->UpdateProgress(1.0);
  return 1;
}

void vtkCorticalClassify::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Preset: " << presetName(this->Preset) << "\n";
  os << indent << "CancellousThreshold: " << this->CancellousThreshold << "\n";
  os << indent << "CorticalThreshold: " << this->CorticalThreshold << "\n";
  os << indent << "AutomaticThresholds: " << this->AutomaticThresholds << "\n";
  os << indent << "SmoothingRadius: " << this->SmoothingRadius << "\n";
}
