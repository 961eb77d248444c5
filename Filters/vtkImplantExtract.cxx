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

/// Index-to-physical geometry of the whole volume, from the pipeline information (so that a rank
/// without voxels knows it too).
struct VolumeGeometry
{
  double origin[3] = { 0, 0, 0 };
  double spacing[3] = { 1, 1, 1 };
  double direction[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };

  Vec3 toPhysical(double i, double j, double k) const
  {
    const double scaled[3] = { i * spacing[0], j * spacing[1], k * spacing[2] };
    double p[3];
    for (int row = 0; row < 3; ++row)
    {
      p[row] = origin[row] + direction[3 * row] * scaled[0] + direction[3 * row + 1] * scaled[1] +
        direction[3 * row + 2] * scaled[2];
    }
    return { p[0], p[1], p[2] };
  }

  /// Rows of the 3x4 physical-to-index matrix.
  void physicalToIndex(double matrix[12]) const
  {
    double inverse[9];
    vtkMatrix3x3::Invert(this->direction, inverse);
    for (int row = 0; row < 3; ++row)
    {
      double shift = 0.0;
      for (int column = 0; column < 3; ++column)
      {
        matrix[4 * row + column] = inverse[3 * row + column] / spacing[row];
        shift += inverse[3 * row + column] * origin[column];
      }
      matrix[4 * row + 3] = -shift / spacing[row];
    }
  }

  double voxelVolume() const
  {
    return std::abs(vtkMatrix3x3::Determinant(this->direction)) * spacing[0] * spacing[1] *
      spacing[2];
  }
};

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

/// Calls visit(i, j, k, value) for the voxels of `range` (inside `extent`, the buffer's
/// extent), x fastest, reading the first of `components` values of a typed buffer.
template<typename T, typename Visit>
void visitVoxels(const T* data,
  int components,
  const int extent[6],
  const int range[6],
  Visit& visit)
{
  const vtkIdType nx = extent[1] - extent[0] + 1;
  const vtkIdType ny = extent[3] - extent[2] + 1;
  for (int k = range[4]; k <= range[5]; ++k)
  {
    for (int j = range[2]; j <= range[3]; ++j)
    {
      const T* row = data +
        ((static_cast<vtkIdType>(k - extent[4]) * ny + (j - extent[2])) * nx +
          (range[0] - extent[0])) *
          components;
      for (int i = range[0]; i <= range[1]; ++i, row += components)
      {
        visit(i, j, k, static_cast<double>(*row));
      }
    }
  }
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
  const bool root = comm.rank() == 0;

  // --- This rank's voxels and the volume's geometry.
  int whole[6] = { 0, -1, 0, -1, 0, -1 };
  int extent[6] = { 0, -1, 0, -1, 0, -1 };
  if (volume)
  {
    volume->GetExtent(extent);
  }
  if (volumeInfo->Has(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT()))
  {
    volumeInfo->Get(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), whole);
  }
  else
  {
    std::copy(extent, extent + 6, whole);
  }
  VolumeGeometry geometry;
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

  // Every pass below reads the voxels of a box of this rank's extent straight from the typed
  // buffer (first component), x fastest.
  auto forEachVoxel = [&](const int range[6], auto&& visit)
  {
    switch (scalars->GetDataType())
    {
      vtkTemplateMacro(visitVoxels(static_cast<const VTK_TT*>(scalars->GetVoidPointer(0)),
        scalars->GetNumberOfComponents(),
        extent,
        range,
        visit));
    }
  };

  // --- The histogram's high tail (and the largest value) over the voxels this rank owns, in
  // one pass (pieces share their boundary layers: a layer belongs to the piece below it unless
  // it is the volume's last).
  int owned[6];
  for (int axis = 0; axis < 3; ++axis)
  {
    owned[2 * axis] = extent[2 * axis];
    owned[2 * axis + 1] =
      extent[2 * axis + 1] == whole[2 * axis + 1] ? extent[2 * axis + 1] : extent[2 * axis + 1] - 1;
  }
  double maximum = -std::numeric_limits<double>::max();
  ex::HighTail tail;
  tail.minimumHU = this->MetalMinimumHU;
  const double cap = this->MetalMinimumHU + 1.0e6;
  if (hasVoxels)
  {
    forEachVoxel(owned,
      [&](int, int, int, double value)
      {
        maximum = std::max(maximum, value);
        tail.add(std::min(value, cap));
      });
  }
  comm.maximum(&maximum, 1);
  if (!(maximum >= this->MetalMinimumHU))
  {
    vtkErrorMacro("Implant Extract: no voxel reaches Metal Minimum HU ("
      << this->MetalMinimumHU << "; the highest is " << maximum
      << "). Is this a post-operative CT in HU? Lower Metal Minimum HU for a faint implant.");
    return false;
  }
  // Every rank's counts to the same length (that of the largest value) before summing.
  tail.counts.resize(
    static_cast<std::size_t>(std::min(maximum, cap) - this->MetalMinimumHU) + 1, 0);
  comm.sum(tail.counts.data(), static_cast<int>(tail.counts.size()));
  const ex::MetalLevels levels = ex::metalLevels(tail);
  const double threshold = this->AutomaticThreshold ? levels.threshold : this->Threshold;
  this->UpdateProgress(0.1);

  // --- The metal's bounding box, grown by a margin for the profiles, gathered on rank 0.
  double box[6] = { -1e300, -1e300, -1e300, -1e300, -1e300, -1e300 }; // -min, max per axis
  if (hasVoxels)
  {
    forEachVoxel(extent,
      [&](int i, int j, int k, double value)
      {
        if (value >= threshold)
        {
          const int index[3] = { i, j, k };
          for (int axis = 0; axis < 3; ++axis)
          {
            box[2 * axis] = std::max(box[2 * axis], -static_cast<double>(index[axis]));
            box[2 * axis + 1] = std::max(box[2 * axis + 1], static_cast<double>(index[axis]));
          }
        }
      });
  }
  comm.maximum(box, 6);
  if (box[1] < -1e299)
  {
    vtkErrorMacro("Implant Extract: no voxel reaches the threshold " << threshold << " HU.");
    return false;
  }
  const double marginMM = 9.0; // the profiles reach 7 mm outside the threshold surface
  int boxExtent[6];
  for (int axis = 0; axis < 3; ++axis)
  {
    const int margin = static_cast<int>(std::ceil(marginMM / geometry.spacing[axis]));
    boxExtent[2 * axis] = std::max(whole[2 * axis], static_cast<int>(-box[2 * axis]) - margin);
    boxExtent[2 * axis + 1] =
      std::min(whole[2 * axis + 1], static_cast<int>(box[2 * axis + 1]) + margin);
  }
  std::vector<double> mine;
  if (hasVoxels)
  {
    int part[6];
    bool overlaps = true;
    for (int axis = 0; axis < 3; ++axis)
    {
      part[2 * axis] = std::max(extent[2 * axis], boxExtent[2 * axis]);
      part[2 * axis + 1] = std::min(extent[2 * axis + 1], boxExtent[2 * axis + 1]);
      overlaps &= part[2 * axis] <= part[2 * axis + 1];
    }
    if (overlaps)
    {
      mine.assign(part, part + 6);
      forEachVoxel(part, [&](int, int, int, double value) { mine.push_back(value); });
    }
  }
  const std::vector<double> gathered = comm.distributed() ? comm.gatherToRoot(mine) : mine;
  this->UpdateProgress(0.2);
  if (!root)
  {
    return true; // rank 0 builds the surface
  }

  const std::array<int, 3> boxSize = { boxExtent[1] - boxExtent[0] + 1,
    boxExtent[3] - boxExtent[2] + 1,
    boxExtent[5] - boxExtent[4] + 1 };
  const std::size_t boxCount =
    static_cast<std::size_t>(boxSize[0]) * boxSize[1] * static_cast<std::size_t>(boxSize[2]);
  std::vector<float> boxValues(boxCount, std::numeric_limits<float>::quiet_NaN());
  for (std::size_t at = 0; at + 6 <= gathered.size();)
  {
    int part[6];
    for (int c = 0; c < 6; ++c)
    {
      part[c] = static_cast<int>(gathered[at + c]);
    }
    at += 6;
    for (int k = part[4]; k <= part[5]; ++k)
      for (int j = part[2]; j <= part[3]; ++j)
        for (int i = part[0]; i <= part[1]; ++i)
        {
          const std::size_t index = (static_cast<std::size_t>(k - boxExtent[4]) * boxSize[1] +
                                      static_cast<std::size_t>(j - boxExtent[2])) *
              boxSize[0] +
            static_cast<std::size_t>(i - boxExtent[0]);
          boxValues[index] = static_cast<float>(gathered[at++]);
        }
  }

  // --- The metal: connected component(s), cavities filled.
  std::vector<std::uint8_t> mask(boxCount);
  for (std::size_t index = 0; index < boxCount; ++index)
  {
    mask[index] = boxValues[index] >= threshold ? 1 : 0;
  }
  const std::int64_t minimumVoxels = std::max<std::int64_t>(
    1, static_cast<std::int64_t>(this->MinimumComponentVolume / geometry.voxelVolume()));
  int componentsFound = 0;
  const std::vector<std::uint8_t> solid =
    ex::solidComponent(mask, boxSize, minimumVoxels, !this->LargestComponentOnly, componentsFound);
  std::int64_t solidVoxels = 0;
  for (std::uint8_t inside : solid)
  {
    solidVoxels += inside;
  }
  if (solidVoxels == 0)
  {
    vtkErrorMacro("Implant Extract: no metal component reaches Minimum Component Volume ("
      << this->MinimumComponentVolume << " mm3).");
    return false;
  }
  this->UpdateProgress(0.3);

  // --- The threshold surface of that metal: the CT's own values where they decide the
  // crossing (sub-voxel), filled cavities raised above the threshold, other components lowered.
  vtkNew<vtkFloatArray> field;
  field->SetNumberOfTuples(static_cast<vtkIdType>(boxCount));
  const float below = static_cast<float>(threshold - 1.0);
  const float plateau = static_cast<float>(std::max(levels.plateau, threshold + 1.0));
  for (std::size_t index = 0; index < boxCount; ++index)
  {
    const float value = std::isnan(boxValues[index]) ? below : boxValues[index];
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
  fieldImage->SetExtent(boxExtent);
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
  this->UpdateProgress(0.5);

  std::vector<Vec3> points;
  std::vector<Triangle> triangles;
  ibc::surfaceToArrays(smoothed, points, triangles);
  if (triangles.empty())
  {
    vtkErrorMacro("Implant Extract: the metal gave no surface.");
    return false;
  }
  if (ibc::probe::signedVolume(points, triangles, centroidOf(points)) < 0.0)
  {
    flipTriangles(triangles);
  }
  const ibc::Collective alone(nullptr);
  std::vector<Vec3> normals = ibc::probe::computeOutwardNormals(points, triangles, alone);
  const double thresholdVolume = ibc::probe::signedVolume(points, triangles, centroidOf(points));

  // --- Each vertex to the metal edge its own profile shows.
  const std::int64_t vertexCount = static_cast<std::int64_t>(points.size());
  std::vector<double> shift(points.size(), 0.0);
  std::vector<char> valid(points.size(), 0);
  std::vector<double> sigmas;
  std::vector<double> metals;
  std::int64_t fitted = 0;
  if (this->PartialVolumeCorrection)
  {
    ibc::probe::VolumeBlock block;
    block.data = boxValues.data();
    block.scalarType = VTK_FLOAT;
    std::copy(boxExtent, boxExtent + 6, block.extent);
    std::copy(whole, whole + 6, block.wholeExtent);
    geometry.physicalToIndex(block.physicalToIndex);
    std::vector<double> distances;
    for (int s = 0; s <= 120; ++s)
    {
      distances.push_back(-5.0 + 0.1 * s); // 5 mm into the metal, 7 mm out
    }
    std::vector<Vec3> bases(points.size());
    std::vector<Vec3> steps(points.size());
    for (std::size_t v = 0; v < points.size(); ++v)
    {
      bases[v] = block.toIndex(points[v]);
      steps[v] = block.directionToIndex(normals[v]);
    }
    const std::size_t samples = distances.size();
    std::vector<double> profiles(points.size() * samples);
    std::vector<std::uint8_t> status(points.size() * samples);
    ibc::probe::sampleProfiles(block,
      bases.data(),
      steps.data(),
      vertexCount,
      distances,
      ibc::probe::Interpolation::Cubic,
      profiles.data(),
      status.data());
    this->UpdateProgress(0.7);

    ex::EdgeModel model;
    model.threshold = threshold;
    model.clipped = levels.clipped;
    model.clipValue = levels.clipValue;
    model.metalHU = this->MetalHU;
    std::vector<ex::EdgeFit> fits(points.size());
    vtkSMPTools::For(0,
      vertexCount,
      [&](std::int64_t begin, std::int64_t end)
      {
        for (std::int64_t v = begin; v < end; ++v)
        {
          fits[v] = ex::locateEdge(distances, profiles.data() + v * samples, model);
        }
      });
    for (std::size_t v = 0; v < points.size(); ++v)
    {
      valid[v] = fits[v].valid;
      if (fits[v].valid)
      {
        shift[v] = fits[v].edge;
        ++fitted;
        metals.push_back(fits[v].metalHU);
        if (fits[v].sigma > 0.0)
        {
          sigmas.push_back(fits[v].sigma);
        }
      }
    }
    // Each vertex's profile carries CT noise: average the shifts over the neighbours.
    ex::smoothOverMesh(shift, valid, triangles, 3);
    for (std::size_t v = 0; v < points.size(); ++v)
    {
      if (!valid[v])
      {
        shift[v] = 0.0;
      }
      points[v] = points[v] + shift[v] * normals[v];
    }
    normals = ibc::probe::computeOutwardNormals(points, triangles, alone);
    const double unfitted = 1.0 - static_cast<double>(fitted) / static_cast<double>(vertexCount);
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
  this->UpdateProgress(0.9);

  // --- Output.
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
  for (std::int64_t v = 0; v < vertexCount; ++v)
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

  auto medianOf = [](std::vector<double> values)
  {
    if (values.empty())
    {
      return 0.0;
    }
    std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
    return values[values.size() / 2];
  };
  vtkFieldData* fieldData = output->GetFieldData();
  fieldData->AddArray(ibc::fieldScalar("MetalThreshold", threshold));
  fieldData->AddArray(ibc::fieldScalar("MetalPlateauHU", levels.plateau));
  fieldData->AddArray(ibc::fieldScalar("Clipped", levels.clipped ? 1.0 : 0.0));
  fieldData->AddArray(ibc::fieldScalar("MetalHUUsed", medianOf(metals)));
  fieldData->AddArray(ibc::fieldScalar("EdgeSigma", medianOf(sigmas)));
  fieldData->AddArray(ibc::fieldScalar("ThresholdSurfaceInflation", -meanShift));
  fieldData->AddArray(ibc::fieldScalar("ThresholdSurfaceVolume", thresholdVolume));
  fieldData->AddArray(
    ibc::fieldScalar("Volume", ibc::probe::signedVolume(points, triangles, centroidOf(points))));
  fieldData->AddArray(ibc::fieldScalar("ComponentsFound", componentsFound));
  this->UpdateProgress(1.0);
  return true;
}
