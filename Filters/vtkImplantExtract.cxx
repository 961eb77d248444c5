// SPDX-License-Identifier: BSD-3-Clause
#include "vtkImplantExtract.h"

#include "ibcCollective.h"
#include "ibcImplantExtract.h"
#include "ibcNormalProbe.h"
#include "ibcPipeline.h"
#include "ibcSMP.h"
#include "ibcSurfaceArrays.h"

#include <vtkCellArray.h>
#include <vtkDataArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkFloatArray.h>
#include <vtkFlyingEdges3D.h>
#include <vtkImageData.h>
#include <vtkInformation.h>
#include <vtkInformationVector.h>
#include <vtkMatrix3x3.h>
#include <vtkMultiProcessController.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkSMPTools.h>
#include <vtkStreamingDemandDrivenPipeline.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include <algorithm>
#include <cmath>
#include <limits>

vtkStandardNewMacro(vtkImplantExtract);
vtkCxxSetObjectMacro(vtkImplantExtract, Controller, vtkMultiProcessController);

namespace
{
using ibc::Vec3;
using Triangle = ibc::probe::Triangle;

using ibc::extract::VolumeGeometry;

/// The image's own origin, spacing and direction where a rank has voxels (a producer need not
/// put them into the pipeline information: a trivial producer leaves the direction out), the
/// same on every rank (pieces of one image share them; a rank without voxels takes theirs).
void agreeOnGeometry(vtkImageData* volume, const ibc::Collective& comm, VolumeGeometry& geometry)
{
  double values[15];
  const double none = -std::numeric_limits<double>::max();
  std::fill(values, values + 15, none);
  if (volume)
  {
    volume->GetOrigin(geometry.origin);
    volume->GetSpacing(geometry.spacing);
    std::copy(volume->GetDirectionMatrix()->GetData(),
      volume->GetDirectionMatrix()->GetData() + 9,
      geometry.direction);
    std::copy(geometry.origin, geometry.origin + 3, values);
    std::copy(geometry.spacing, geometry.spacing + 3, values + 3);
    std::copy(geometry.direction, geometry.direction + 9, values + 6);
  }
  comm.maximum(values, 15);
  if (values[3] == none)
  {
    return; // no rank has voxels: the pipeline information's geometry stands
  }
  std::copy(values, values + 3, geometry.origin);
  std::copy(values + 3, values + 6, geometry.spacing);
  std::copy(values + 6, values + 15, geometry.direction);
}

void flipTriangles(std::vector<Triangle>& triangles)
{
  for (Triangle& triangle : triangles)
  {
    std::swap(triangle[1], triangle[2]);
  }
}

Vec3 centroidOf(const std::vector<Vec3>& points)
{
  Vec3 sum;
  for (const Vec3& p : points)
  {
    sum = sum + p;
  }
  return points.empty() ? sum : (1.0 / static_cast<double>(points.size())) * sum;
}

double medianOf(std::vector<double> values)
{
  if (values.empty())
  {
    return 0.0;
  }
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

/// The surface into `output`, with its normals and each vertex's shift; returns the mean shift.
double writeSurface(const std::vector<Vec3>& points,
  const std::vector<Vec3>& normals,
  const std::vector<Triangle>& triangles,
  const std::vector<double>& shift,
  vtkPolyData* output)
{
  const auto vertexCount = static_cast<vtkIdType>(points.size());
  vtkNew<vtkPoints> outputPoints;
  outputPoints->SetDataTypeToDouble();
  outputPoints->SetNumberOfPoints(vertexCount);
  vtkNew<vtkFloatArray> normalArray;
  normalArray->SetName("Normals");
  normalArray->SetNumberOfComponents(3);
  normalArray->SetNumberOfTuples(vertexCount);
  vtkNew<vtkDoubleArray> shiftArray;
  shiftArray->SetName("EdgeShift");
  shiftArray->SetNumberOfTuples(vertexCount);
  double meanShift = 0.0;
  for (vtkIdType v = 0; v < vertexCount; ++v)
  {
    outputPoints->SetPoint(v, points[v].x, points[v].y, points[v].z);
    normalArray->SetTuple3(v, normals[v].x, normals[v].y, normals[v].z);
    shiftArray->SetValue(v, shift[v]);
    meanShift += shift[v];
  }
  meanShift /= static_cast<double>(vertexCount);
  vtkNew<vtkCellArray> polys;
  for (const Triangle& triangle : triangles)
  {
    const vtkIdType ids[3] = { triangle[0], triangle[1], triangle[2] };
    polys->InsertNextCell(3, ids);
  }
  output->SetPoints(outputPoints);
  output->SetPolys(polys);
  output->GetPointData()->SetNormals(normalArray);
  output->GetPointData()->AddArray(shiftArray);
  return meanShift;
}
} // namespace

vtkImplantExtract::vtkImplantExtract()
{
  this->SetController(vtkMultiProcessController::GetGlobalController());
  this->SetInputArrayToProcess(0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "HU");
}

vtkImplantExtract::~vtkImplantExtract()
{
  this->SetController(nullptr);
}

void vtkImplantExtract::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "AutomaticThreshold: " << this->AutomaticThreshold << "\n";
  os << indent << "Threshold: " << this->Threshold << "\n";
  os << indent << "MetalMinimumHU: " << this->MetalMinimumHU << "\n";
  os << indent << "MetalHU: " << this->MetalHU << "\n";
  os << indent << "LargestComponentOnly: " << this->LargestComponentOnly << "\n";
  os << indent << "MinimumComponentVolume: " << this->MinimumComponentVolume << "\n";
  os << indent << "PartialVolumeCorrection: " << this->PartialVolumeCorrection << "\n";
  os << indent << "SmoothingIterations: " << this->SmoothingIterations << "\n";
}

int vtkImplantExtract::FillInputPortInformation(int, vtkInformation* info)
{
  info->Set(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE(), "vtkImageData");
  return 1;
}

int vtkImplantExtract::RequestUpdateExtent(vtkInformation*,
  vtkInformationVector** inputVector,
  vtkInformationVector* outputVector)
{
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  const int piece = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER());
  const int pieces = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES());
  // Only this rank's piece of the volume; the metal's box is gathered later.
  ibc::requestVolumePiece(inputVector[0]->GetInformationObject(0), piece, pieces, 0);
  return 1;
}

int vtkImplantExtract::RequestData(vtkInformation*,
  vtkInformationVector** inputVector,
  vtkInformationVector* outputVector)
{
  vtkImageData* volume = vtkImageData::GetData(inputVector[0], 0);
  vtkDataArray* scalars = nullptr;
  if (volume && volume->GetNumberOfPoints() > 0)
  {
    std::string note;
    scalars = ibc::selectedOrActiveScalars(this->GetInputArrayToProcess(0, inputVector),
      this->GetInputArrayInformation(0)->Get(vtkDataObject::FIELD_NAME()),
      volume->GetPointData(),
      note);
    if (!note.empty())
    {
      vtkWarningMacro(<< note);
    }
  }
  this->ExtractSurface(volume,
    inputVector[0]->GetInformationObject(0),
    scalars,
    vtkPolyData::GetData(outputVector, 0));
  return 1;
}

bool vtkImplantExtract::ExtractSurface(vtkImageData* volume,
  vtkInformation* volumeInfo,
  vtkDataArray* scalars,
  vtkPolyData* output)
{
  namespace ex = ibc::extract;
  ibc::useThreadedBackend();
  const ibc::Collective comm(this->Controller);

  // --- This rank's voxels and the volume's geometry, checked.
  ibc::probe::VolumeBlock block;
  VolumeGeometry geometry;
  if (!this->ReadVolume(volume, volumeInfo, scalars, comm, block, geometry))
  {
    return false;
  }
  const bool hasVoxels = volume && volume->GetNumberOfPoints() > 0;

  // --- The metal's levels, from the high tail of the histogram.
  double maximum = 0.0;
  const ex::HighTail tail =
    ex::highTailAcrossRanks(block, hasVoxels, this->MetalMinimumHU, comm, maximum);
  if (tail.counts.empty())
  {
    vtkErrorMacro("Implant Extract: no voxel reaches Metal Minimum HU ("
      << this->MetalMinimumHU << "; the highest is " << maximum
      << "). Is this a post-operative CT in HU? Lower Metal Minimum HU for a faint implant.");
    return false;
  }
  const ex::MetalLevels levels = ex::metalLevels(tail);
  const double threshold = this->AutomaticThreshold ? levels.threshold : this->Threshold;
  this->UpdateProgress(0.1);

  // --- The metal's bounding box, grown by a margin for the profiles (they reach 7 mm outside
  // the threshold surface), gathered on rank 0, which builds the surface.
  const ex::MetalBox box =
    ex::gatherMetalBox(block, hasVoxels, threshold, geometry.spacing, 9.0, comm);
  if (!box.found)
  {
    vtkErrorMacro("Implant Extract: no voxel reaches the threshold " << threshold << " HU.");
    return false;
  }
  this->UpdateProgress(0.2);
  if (comm.rank() != 0)
  {
    return true;
  }

  // --- The threshold surface of the metal, outward.
  std::vector<Vec3> points;
  std::vector<Triangle> triangles;
  int componentsFound = 0;
  if (!this->ThresholdSurface(
        box, threshold, levels.plateau, geometry, points, triangles, componentsFound))
  {
    return false;
  }
  if (ibc::probe::signedVolume(points, triangles, centroidOf(points)) < 0.0)
  {
    flipTriangles(triangles);
  }
  const ibc::Collective alone(nullptr);
  std::vector<Vec3> normals = ibc::probe::computeOutwardNormals(points, triangles, alone);
  const double thresholdVolume = ibc::probe::signedVolume(points, triangles, centroidOf(points));
  this->UpdateProgress(0.5);

  // --- Each vertex to the metal edge its own profile shows.
  ex::EdgeCorrection correction;
  correction.shift.assign(points.size(), 0.0);
  if (this->PartialVolumeCorrection)
  {
    ibc::probe::VolumeBlock boxBlock;
    boxBlock.data = box.values.data();
    boxBlock.scalarType = VTK_FLOAT;
    std::copy(box.extent, box.extent + 6, boxBlock.extent);
    std::copy(block.wholeExtent, block.wholeExtent + 6, boxBlock.wholeExtent);
    geometry.physicalToIndex(boxBlock.physicalToIndex);
    ex::EdgeModel model;
    model.threshold = threshold;
    model.clipped = levels.clipped;
    model.clipValue = levels.clipValue;
    model.metalHU = this->MetalHU;
    correction = ex::moveToMetalEdges(boxBlock, points, normals, triangles, model);
    for (std::size_t v = 0; v < points.size(); ++v)
    {
      points[v] = points[v] + correction.shift[v] * normals[v];
    }
    normals = ibc::probe::computeOutwardNormals(points, triangles, alone);
    this->ReportCorrection(correction, levels, points.size());
  }
  this->UpdateProgress(0.9);

  // --- Output.
  const double meanShift = writeSurface(points, normals, triangles, correction.shift, output);
  vtkFieldData* fieldData = output->GetFieldData();
  fieldData->AddArray(ibc::fieldScalar("MetalThreshold", threshold));
  fieldData->AddArray(ibc::fieldScalar("MetalPlateauHU", levels.plateau));
  fieldData->AddArray(ibc::fieldScalar("Clipped", levels.clipped ? 1.0 : 0.0));
  fieldData->AddArray(ibc::fieldScalar("MetalHUUsed", medianOf(correction.metals)));
  fieldData->AddArray(ibc::fieldScalar("EdgeSigma", medianOf(correction.sigmas)));
  fieldData->AddArray(ibc::fieldScalar("ThresholdSurfaceInflation", -meanShift));
  fieldData->AddArray(ibc::fieldScalar("ThresholdSurfaceVolume", thresholdVolume));
  fieldData->AddArray(
    ibc::fieldScalar("Volume", ibc::probe::signedVolume(points, triangles, centroidOf(points))));
  fieldData->AddArray(ibc::fieldScalar("ComponentsFound", componentsFound));
  this->UpdateProgress(1.0);
  return true;
}

bool vtkImplantExtract::ReadVolume(vtkImageData* volume,
  vtkInformation* volumeInfo,
  vtkDataArray* scalars,
  const ibc::Collective& comm,
  ibc::probe::VolumeBlock& block,
  VolumeGeometry& geometry)
{
  int* whole = block.wholeExtent;
  if (volume)
  {
    volume->GetExtent(block.extent);
  }
  if (volumeInfo->Has(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT()))
  {
    volumeInfo->Get(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), whole);
  }
  else
  {
    std::copy(block.extent, block.extent + 6, whole);
  }
  if (scalars)
  {
    block.data = scalars->GetVoidPointer(0);
    block.scalarType = scalars->GetDataType();
    block.components = scalars->GetNumberOfComponents();
  }
  if (volumeInfo->Has(vtkDataObject::ORIGIN()))
  {
    volumeInfo->Get(vtkDataObject::ORIGIN(), geometry.origin);
  }
  if (volumeInfo->Has(vtkDataObject::SPACING()))
  {
    volumeInfo->Get(vtkDataObject::SPACING(), geometry.spacing);
  }
  if (volumeInfo->Has(vtkDataObject::DIRECTION()))
  {
    volumeInfo->Get(vtkDataObject::DIRECTION(), geometry.direction);
  }
  const bool hasVoxels = volume && volume->GetNumberOfPoints() > 0;
  agreeOnGeometry(hasVoxels ? volume : nullptr, comm, geometry);

  double missing = (hasVoxels && !scalars) ? 1.0 : 0.0;
  double anyVoxels = hasVoxels ? 1.0 : 0.0;
  comm.maximum(&missing, 1);
  comm.maximum(&anyVoxels, 1);
  if (anyVoxels == 0.0)
  {
    vtkErrorMacro("Implant Extract: the input CT is empty.");
    return false;
  }
  if (missing > 0.0)
  {
    vtkErrorMacro("Implant Extract: the CT has no HU array (choose the Scalars array holding "
                  "Hounsfield units).");
    return false;
  }
  if (whole[1] - whole[0] < 2 || whole[3] - whole[2] < 2 || whole[5] - whole[4] < 2)
  {
    vtkErrorMacro("Implant Extract needs a 3D volume: this CT has "
      << whole[1] - whole[0] + 1 << " x " << whole[3] - whole[2] + 1 << " x "
      << whole[5] - whole[4] + 1 << " voxels (at least 3 along each axis).");
    return false;
  }
  std::int64_t nonFinite = hasVoxels ? ibc::countNonFinite(scalars) : 0;
  comm.sum(&nonFinite, 1);
  if (nonFinite > 0)
  {
    vtkErrorMacro("Implant Extract: " << nonFinite << " voxels of the CT are NaN or infinite. Set "
                                      << "them to a real value first (air, -1024 HU, outside "
                                      << "the scanned field) so that the metal's edges can be "
                                      << "found.");
    return false;
  }
  return true;
}

bool vtkImplantExtract::ThresholdSurface(const ibc::extract::MetalBox& box,
  double threshold,
  double plateauHU,
  const VolumeGeometry& geometry,
  std::vector<Vec3>& points,
  std::vector<Triangle>& triangles,
  int& componentsFound)
{
  // --- The metal: connected component(s), cavities filled.
  const std::size_t boxCount = box.count();
  std::vector<std::uint8_t> mask(boxCount);
  for (std::size_t index = 0; index < boxCount; ++index)
  {
    mask[index] = box.values[index] >= threshold ? 1 : 0;
  }
  const std::int64_t minimumVoxels = std::max<std::int64_t>(
    1, static_cast<std::int64_t>(this->MinimumComponentVolume / geometry.voxelVolume()));
  const std::vector<std::uint8_t> solid = ibc::extract::solidComponent(
    mask, box.size, minimumVoxels, !this->LargestComponentOnly, componentsFound);
  if (std::find(solid.begin(), solid.end(), 1) == solid.end())
  {
    vtkErrorMacro("Implant Extract: no metal component reaches Minimum Component Volume ("
      << this->MinimumComponentVolume << " mm3).");
    return false;
  }
  this->UpdateProgress(0.3);

  // --- Its threshold surface: the CT's own values where they decide the crossing (sub-voxel),
  // filled cavities raised above the threshold, other components lowered.
  vtkNew<vtkFloatArray> field;
  field->SetNumberOfTuples(static_cast<vtkIdType>(boxCount));
  const float below = static_cast<float>(threshold - 1.0);
  const float plateau = static_cast<float>(std::max(plateauHU, threshold + 1.0));
  for (std::size_t index = 0; index < boxCount; ++index)
  {
    const float value = std::isnan(box.values[index]) ? below : box.values[index];
    float shaped = value;
    if (solid[index])
    {
      shaped = value >= threshold ? value : plateau; // a filled cavity
    }
    else if (mask[index])
    {
      shaped = below; // metal of another, dropped component
    }
    field->SetValue(static_cast<vtkIdType>(index), shaped);
  }
  vtkNew<vtkImageData> fieldImage;
  fieldImage->SetExtent(const_cast<int*>(box.extent));
  fieldImage->GetPointData()->SetScalars(field);
  vtkNew<vtkFlyingEdges3D> contour;
  contour->SetInputData(fieldImage);
  contour->SetValue(0, threshold);
  contour->ComputeNormalsOff();
  contour->ComputeGradientsOff();
  contour->ComputeScalarsOff();
  contour->Update();
  vtkPolyData* indexSurface = contour->GetOutput();
  // Flying edges worked in index space (spacing 1 at the box's extent): place the points.
  vtkNew<vtkPoints> worldPoints;
  worldPoints->SetDataTypeToDouble();
  worldPoints->SetNumberOfPoints(indexSurface->GetNumberOfPoints());
  for (vtkIdType id = 0; id < indexSurface->GetNumberOfPoints(); ++id)
  {
    double index[3];
    indexSurface->GetPoint(id, index);
    const Vec3 p = geometry.toPhysical(index[0], index[1], index[2]);
    worldPoints->SetPoint(id, p.x, p.y, p.z);
  }
  vtkNew<vtkPolyData> thresholdSurface;
  thresholdSurface->SetPoints(worldPoints);
  thresholdSurface->SetPolys(indexSurface->GetPolys());
  vtkSmartPointer<vtkPolyData> smoothed = thresholdSurface.Get();
  if (this->SmoothingIterations > 0)
  {
    // Windowed sinc is a low-pass filter: it removes the voxel staircase without shrinking.
    vtkNew<vtkWindowedSincPolyDataFilter> smoother;
    smoother->SetInputData(thresholdSurface);
    smoother->SetNumberOfIterations(this->SmoothingIterations);
    smoother->SetPassBand(0.1);
    smoother->NormalizeCoordinatesOn();
    smoother->FeatureEdgeSmoothingOff();
    smoother->BoundarySmoothingOff();
    smoother->NonManifoldSmoothingOn();
    smoother->Update();
    smoothed = smoother->GetOutput();
  }
  ibc::surfaceToArrays(smoothed, points, triangles);
  if (triangles.empty())
  {
    vtkErrorMacro("Implant Extract: the metal gave no surface.");
    return false;
  }
  return true;
}

void vtkImplantExtract::ReportCorrection(const ibc::extract::EdgeCorrection& correction,
  const ibc::extract::MetalLevels& levels,
  std::size_t vertexCount)
{
  const double unfitted =
    1.0 - static_cast<double>(correction.fitted) / static_cast<double>(vertexCount);
  if (unfitted > 0.1)
  {
    vtkWarningMacro("Implant Extract: " << static_cast<int>(100.0 * unfitted + 0.5)
                                        << " % of the vertices showed no clear metal edge "
                                           "in their CT profile and took their neighbours' "
                                           "correction.");
  }
  if (levels.clipped && this->MetalHU <= 0.0 && this->AutomaticThreshold)
  {
    vtkWarningMacro("Implant Extract: the CT clips at "
      << levels.clipValue
      << " HU, below the metal's true value, so the edge is extrapolated assuming titanium "
         "alloy (6000 HU on an extended scale). For cobalt-chromium or steel, or a scanner "
         "whose titanium reads otherwise, set Metal HU; or register the CAD model (Implant "
         "Register) for an exact surface.");
  }
}
