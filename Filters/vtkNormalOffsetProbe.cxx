// SPDX-License-Identifier: BSD-3-Clause
#include "vtkNormalOffsetProbe.h"

#include "ibcCollective.h"
#include "ibcNormalProbe.h"
#include "ibcPipeline.h"
#include "ibcSMP.h"
#include "ibcSurfaceArrays.h"

#include <vtkCellArray.h>
#include <vtkCharArray.h>
#include <vtkCommunicator.h>
#include <vtkDataArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkInformation.h>
#include <vtkInformationVector.h>
#include <vtkIntArray.h>
#include <vtkLogger.h>
#include <vtkMatrix4x4.h>
#include <vtkMultiProcessController.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkSMPTools.h>
#include <vtkStreamingDemandDrivenPipeline.h>
#include <vtkTriangleFilter.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <sstream>
#include <unordered_map>
#include <vector>

vtkStandardNewMacro(vtkNormalOffsetProbe);
vtkCxxSetObjectMacro(vtkNormalOffsetProbe, Controller, vtkMultiProcessController);

using ibc::Vec3;
namespace probe = ibc::probe;

namespace
{
using Triangle = ibc::probe::Triangle;

/// Why most points could not be sampled, in words a user can act on.
// The share of points read farther out than Contact Distance from which the probe warns.
constexpr double NotableShareReadFartherOut = 0.05;

std::string likelyCause(const double surfaceBounds[6], const double volumeBounds[6])
{
  auto overlaps = [&](const double b[6])
  {
    for (int axis = 0; axis < 3; ++axis)
    {
      if (b[2 * axis + 1] < volumeBounds[2 * axis] || b[2 * axis] > volumeBounds[2 * axis + 1])
      {
        return false;
      }
    }
    return true;
  };
  const double flipped[6] = { -surfaceBounds[1],
    -surfaceBounds[0],
    -surfaceBounds[3],
    -surfaceBounds[2],
    surfaceBounds[4],
    surfaceBounds[5] };
  double size = 0.0;
  for (int axis = 0; axis < 3; ++axis)
  {
    size = std::max(size, surfaceBounds[2 * axis + 1] - surfaceBounds[2 * axis]);
  }
  double scaled[6];
  for (int i = 0; i < 6; ++i)
  {
    scaled[i] = 1000.0 * surfaceBounds[i];
  }
  if (size > 0.0 && size < 1.0 && overlaps(scaled))
  {
    return " The surface is under 1 unit across: it is probably in metres while the volume is "
           "in millimetres; scale it by 1000 (Transform filter).";
  }
  if (!overlaps(surfaceBounds) && overlaps(flipped))
  {
    return " The surface would overlap the volume with x and y negated: it is probably in RAS "
           "coordinates (3D Slicer) while the volume is in LPS (DICOM/ITK); flip x and y "
           "(Transform filter, scale -1 -1 1).";
  }
  if (!overlaps(surfaceBounds))
  {
    return " The surface does not overlap the volume at all: check that both are in the same "
           "coordinate system (LPS vs RAS, millimetres vs metres) and registered.";
  }
  return " Check that the surface lies inside the volume.";
}
} // namespace

vtkNormalOffsetProbe::vtkNormalOffsetProbe()
{
  this->SetNumberOfInputPorts(2);
  this->SetController(vtkMultiProcessController::GetGlobalController());
  this->SetInputArrayToProcess(
    0, 1, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, vtkDataSetAttributes::SCALARS);
  ibc::useThreadedBackend();
}

vtkNormalOffsetProbe::~vtkNormalOffsetProbe()
{
  this->SetController(nullptr);
}

void vtkNormalOffsetProbe::SetSourceConnection(vtkAlgorithmOutput* source)
{
  this->SetInputConnection(1, source);
}

int vtkNormalOffsetProbe::FillInputPortInformation(int port, vtkInformation* info)
{
  info->Set(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE(), port == 0 ? "vtkPolyData" : "vtkImageData");
  return 1;
}

int vtkNormalOffsetProbe::RequestInformation(vtkInformation*,
  vtkInformationVector**,
  vtkInformationVector* outputVector)
{
  outputVector->GetInformationObject(0)->Set(vtkAlgorithm::CAN_HANDLE_PIECE_REQUEST(), 1);
  return 1;
}

int vtkNormalOffsetProbe::RequestUpdateExtent(vtkInformation*,
  vtkInformationVector** inputVector,
  vtkInformationVector* outputVector)
{
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  const int piece = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER());
  const int pieces = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES());

  // The surface: the same piece as the output.
  vtkInformation* surfaceInfo = inputVector[0]->GetInformationObject(0);
  surfaceInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER(), piece);
  surfaceInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES(), pieces);
  surfaceInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_GHOST_LEVELS(), 0);

  // The volume: only this rank's piece, grown by the voxels the interpolation reads beyond a
  // cell, never the whole volume.
  vtkInformation* volumeInfo = inputVector[1]->GetInformationObject(0);
  const int ghosts = probe::stencilReach(static_cast<probe::Interpolation>(this->Interpolation));
  ibc::requestVolumePiece(volumeInfo, piece, pieces, ghosts);
  return 1;
}

namespace
{
vtkSmartPointer<vtkDoubleArray> pointArray(const char* name, vtkIdType count)
{
  auto array = vtkSmartPointer<vtkDoubleArray>::New();
  array->SetName(name);
  array->SetNumberOfTuples(count);
  return array;
}


/// A point array of one profile per point (`samples` components), named after the sampled array.
vtkSmartPointer<vtkDoubleArray> profileArray(const char* sampledName,
  const char* suffix,
  std::int64_t samples,
  vtkIdType count)
{
  auto array = pointArray((std::string(sampledName) + suffix).c_str(), 0);
  array->SetNumberOfComponents(static_cast<int>(samples));
  array->SetNumberOfTuples(count);
  return array;
}

/// The sampled array's name, the same on every rank (ranks without voxels have no array).
std::string agreedArrayName(vtkDataArray* scalars, const ibc::Collective& comm)
{
  std::string name = scalars && scalars->GetName() ? scalars->GetName() : "";
  std::vector<double> encoded(name.begin(), name.end());
  std::vector<vtkIdType> lengths;
  const std::vector<double> names = comm.gather(encoded, lengths);
  if (name.empty())
  {
    std::size_t offset = 0;
    for (const vtkIdType length : lengths)
    {
      if (length > 0)
      {
        name.assign(names.begin() + offset, names.begin() + offset + length);
        break;
      }
      offset += static_cast<std::size_t>(length);
    }
  }
  return name.empty() ? "SampledValue" : name;
}

/// This rank's block of the volume; a rank without voxels takes the geometry of the others.
probe::VolumeBlock volumeBlockOf(vtkImageData* volume,
  vtkInformation* volumeInfo,
  vtkDataArray* scalars,
  const ibc::Collective& comm)
{
  probe::VolumeBlock block;
  volume->GetExtent(block.extent);
  if (volumeInfo->Has(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT()))
  {
    volumeInfo->Get(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), block.wholeExtent);
  }
  else
  {
    volume->GetExtent(block.wholeExtent);
  }
  if (scalars)
  {
    block.data = scalars->GetVoidPointer(0);
    block.scalarType = scalars->GetDataType();
    block.components = scalars->GetNumberOfComponents();
  }
  vtkMatrix4x4* physicalToIndex = volume->GetPhysicalToIndexMatrix();
  for (int row = 0; row < 3; ++row)
  {
    for (int column = 0; column < 4; ++column)
    {
      block.physicalToIndex[4 * row + column] = physicalToIndex->GetElement(row, column);
    }
  }
  std::vector<double> mine(block.physicalToIndex, block.physicalToIndex + 12);
  if (volume->GetNumberOfPoints() == 0)
  {
    mine.clear();
  }
  std::vector<vtkIdType> lengths;
  const std::vector<double> all = comm.gather(mine, lengths);
  if (mine.empty() && all.size() >= 12)
  {
    std::copy(all.begin(), all.begin() + 12, block.physicalToIndex);
  }
  return block;
}

/// World bounds of the whole volume: its extent's corners through the index-to-physical matrix.
void wholeVolumeBounds(const probe::VolumeBlock& block, double bounds[6])
{
  vtkNew<vtkMatrix4x4> toIndex;
  for (int row = 0; row < 3; ++row)
  {
    for (int column = 0; column < 4; ++column)
    {
      toIndex->SetElement(row, column, block.physicalToIndex[4 * row + column]);
    }
  }
  vtkNew<vtkMatrix4x4> toWorld;
  vtkMatrix4x4::Invert(toIndex, toWorld);
  for (int axis = 0; axis < 3; ++axis)
  {
    bounds[2 * axis] = std::numeric_limits<double>::max();
    bounds[2 * axis + 1] = -std::numeric_limits<double>::max();
  }
  for (int corner = 0; corner < 8; ++corner)
  {
    const double ijk[4] = { static_cast<double>(block.wholeExtent[(corner & 1) ? 1 : 0]),
      static_cast<double>(block.wholeExtent[(corner & 2) ? 3 : 2]),
      static_cast<double>(block.wholeExtent[(corner & 4) ? 5 : 4]),
      1.0 };
    double world[4];
    toWorld->MultiplyPoint(ijk, world);
    for (int axis = 0; axis < 3; ++axis)
    {
      bounds[2 * axis] = std::min(bounds[2 * axis], world[axis]);
      bounds[2 * axis + 1] = std::max(bounds[2 * axis + 1], world[axis]);
    }
  }
}

/// The surface's bounds over all ranks.
void globalBounds(vtkPolyData* surface, const ibc::Collective& comm, double bounds[6])
{
  double extremes[6];
  std::fill(extremes, extremes + 6, -std::numeric_limits<double>::max());
  if (surface->GetNumberOfPoints() > 0)
  {
    double local[6];
    surface->GetBounds(local);
    for (int i = 0; i < 6; ++i)
    {
      extremes[i] = i % 2 ? local[i] : -local[i];
    }
  }
  comm.maximum(extremes, 6);
  for (int i = 0; i < 6; ++i)
  {
    bounds[i] = i % 2 ? extremes[i] : -extremes[i];
  }
}
} // namespace

/// What the probe writes per vertex, and why vertices were not read.
struct vtkNormalOffsetProbe::Readings
{
  vtkSmartPointer<vtkDoubleArray> value;
  vtkSmartPointer<vtkDoubleArray> sampleDistance;
  vtkSmartPointer<vtkDoubleArray> interfaceWidth; ///< metal-corrected mode only
  vtkSmartPointer<vtkDoubleArray> confidence;     ///< metal-corrected mode only
  vtkSmartPointer<vtkCharArray> mask = vtkSmartPointer<vtkCharArray>::New();
  std::vector<std::uint8_t> status; ///< ibc::contact::ReadingStatus per vertex
  std::vector<char> outside;        ///< the profile reaches outside the volume

  Readings(vtkIdType count, const std::string& name, bool metalCorrected)
    : value(pointArray(name.c_str(), count))
    , sampleDistance(pointArray("SampleDistance", count))
    , interfaceWidth(metalCorrected ? pointArray("InterfaceWidth", count) : nullptr)
    , confidence(metalCorrected ? pointArray("SampleConfidence", count) : nullptr)
    , status(static_cast<std::size_t>(count), 0)
    , outside(static_cast<std::size_t>(count), 0)
  {
    this->mask->SetName("vtkValidPointMask");
    this->mask->SetNumberOfTuples(count);
  }

  void addValuesTo(vtkPointData* pointData) const
  {
    for (vtkDoubleArray* array :
      { this->value.Get(), this->sampleDistance.Get(), this->interfaceWidth.Get(),
        this->confidence.Get() })
    {
      if (array)
      {
        pointData->AddArray(array);
      }
    }
  }
};

int vtkNormalOffsetProbe::RequestData(vtkInformation*,
  vtkInformationVector** inputVector,
  vtkInformationVector* outputVector)
{
  vtkPolyData* surface = vtkPolyData::GetData(inputVector[0], 0);
  vtkImageData* volume = vtkImageData::GetData(inputVector[1], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  const ibc::Collective comm(this->Controller);
  if (!surface || !volume)
  {
    vtkErrorMacro("Normal Offset Probe needs a surface (Input) and a volume (Source).");
    return 0;
  }
  output->ShallowCopy(surface);
  const std::string settingsProblem = this->SettingsProblem();
  if (!settingsProblem.empty())
  {
    vtkErrorMacro(<< settingsProblem);
    output->Initialize();
    return 0;
  }
  std::int64_t voxels = volume->GetNumberOfPoints();
  comm.sum(&voxels, 1);
  if (voxels == 0) // (every rank takes the same branch)
  {
    vtkErrorMacro("The volume (Source) is empty: it has no voxels to sample.");
    output->Initialize();
    return 0;
  }

  // --- What to sample: the selected array, or the active scalars.
  vtkDataArray* scalars = nullptr;
  if (volume->GetNumberOfPoints() > 0)
  {
    // Nothing (or a name the volume lacks) selected: the volume's active scalars, as a user
    // scripting the filter without choosing an array expects.
    std::string note;
    scalars = ibc::selectedOrActiveScalars(this->GetInputArrayToProcess(0, inputVector),
      this->GetInputArrayInformation(0)->Get(vtkDataObject::FIELD_NAME()),
      volume->GetPointData(),
      note);
    if (!note.empty() && comm.rank() == 0)
    {
      vtkWarningMacro(<< note);
    }
  }
  const int hasArray = volume->GetNumberOfPoints() == 0 || scalars ? 1 : 0;
  if (!hasArray)
  {
    vtkErrorMacro("The volume has no point array to sample: select one in Scalars (e.g. HU).");
  }
  if (comm.minimum(hasArray) == 0) // every rank takes the same branch: collectives stay matched
  {
    return 0;
  }
  const std::string arrayName = agreedArrayName(scalars, comm);
  this->NonFiniteVoxels = scalars ? ibc::countNonFinite(scalars) : 0;
  comm.sum(&this->NonFiniteVoxels, 1);
  if (this->NonFiniteVoxels > 0 && comm.rank() == 0)
  {
    vtkWarningMacro("The volume holds " << this->NonFiniteVoxels << " NaN or infinite voxels in '"
                                        << arrayName << "': samples that touch them are NaN, "
                                        << "and so are the vertices whose profiles cross them.");
  }

  // --- The surface and its outward normals.
  std::vector<Vec3> points;
  std::vector<Triangle> triangles;
  ibc::surfaceToArrays(surface, points, triangles);
  std::int64_t globalCounts[2] = { static_cast<std::int64_t>(points.size()),
    static_cast<std::int64_t>(triangles.size()) };
  comm.sum(globalCounts, 2);
  if (globalCounts[0] == 0)
  {
    vtkWarningMacro("The surface is empty: nothing to sample.");
    return 1;
  }
  std::vector<Vec3> normals;
  if (!this->OutwardNormals(surface, points, triangles, globalCounts[1] > 0, comm, normals))
  {
    return 0;
  }
  this->UpdateProgress(0.2);

  // --- Sample this rank's block of the volume, read every vertex's profile.
  const probe::VolumeBlock block =
    volumeBlockOf(volume, inputVector[1]->GetInformationObject(0), scalars, comm);
  Readings readings(static_cast<vtkIdType>(points.size()), arrayName,
    this->Mode == METAL_CORRECTED);
  this->ReadProfiles(block, volume->GetNumberOfPoints() > 0, points, triangles, normals, comm,
    readings, output);
  this->UpdateProgress(0.9);

  output->GetPointData()->AddArray(readings.mask);
  vtkNew<vtkFloatArray> normalArray;
  normalArray->SetName("Normals");
  normalArray->SetNumberOfComponents(3);
  normalArray->SetNumberOfTuples(static_cast<vtkIdType>(normals.size()));
  for (std::size_t i = 0; i < normals.size(); ++i)
  {
    normalArray->SetTuple3(static_cast<vtkIdType>(i), normals[i].x, normals[i].y, normals[i].z);
  }
  output->GetPointData()->SetNormals(normalArray);
  // The piece of the volume this rank sampled: under MPI it is never the whole volume.
  vtkNew<vtkIntArray> sourceExtent;
  sourceExtent->SetName("SourceExtent");
  sourceExtent->SetNumberOfTuples(6);
  for (int i = 0; i < 6; ++i)
  {
    sourceExtent->SetValue(i, volume->GetNumberOfPoints() > 0 ? block.extent[i] : (i % 2 ? -1 : 0));
  }
  output->GetFieldData()->AddArray(sourceExtent);

  this->ReportUnsampled(surface, block, readings, comm);
  this->UpdateProgress(1.0);
  return 1;
}

bool vtkNormalOffsetProbe::OutwardNormals(vtkPolyData* surface,
  const std::vector<Vec3>& points,
  const std::vector<Triangle>& triangles,
  bool anyTriangles,
  const ibc::Collective& comm,
  std::vector<Vec3>& normals)
{
  vtkDataArray* givenNormals = surface->GetPointData()->GetNormals();
  const int useGiven = comm.minimum(givenNormals && !this->RecomputeNormals ? 1 : 0);
  if (useGiven)
  {
    normals = ibc::vectors(givenNormals);
    for (Vec3& n : normals)
    {
      n = ibc::normalized(n);
    }
  }
  else if (!anyTriangles)
  {
    vtkErrorMacro("The surface has no polygons and no normals: nothing tells which way is "
                  "outward. Give it triangles or a Normals array.");
    return false;
  }
  else
  {
    normals = probe::computeOutwardNormals(points, triangles, comm);
    // An STL read without merging gives every triangle points of its own: the normals are then
    // those of single facets, and the readings follow the facets' tilt.
    std::vector<std::uint8_t> uses(points.size(), 0);
    int shared = 0;
    for (const Triangle& t : triangles)
    {
      for (const std::int64_t v : t)
      {
        shared |= uses[v]++ > 0 ? 1 : 0;
      }
    }
    if (comm.minimum(triangles.empty() || !shared ? 1 : 0) == 1 && comm.rank() == 0)
    {
      vtkWarningMacro("The surface's triangles share no points (an STL read without merging): "
                      "each vertex gets its facet's normal. Run Implant Remesh (or Clean) first "
                      "to merge them.");
    }
  }
  if (this->FlipNormals)
  {
    for (Vec3& n : normals)
    {
      n = -1.0 * n;
    }
  }
  else if (useGiven && probe::pointInwardOnBalance(points, normals, comm) && comm.rank() == 0)
  {
    vtkWarningMacro("The surface's Normals point inward on balance, so the probe samples "
                    "inside the implant. Turn on Recompute Normals (or Flip Normals).");
  }
  return true;
}

std::string vtkNormalOffsetProbe::SettingsProblem() const
{
  if (static_cast<probe::Mode>(this->Mode) == probe::Mode::SingleOffset)
  {
    return {};
  }
  std::ostringstream problem;
  if (!(this->ProfileEnd > this->ProfileStart))
  {
    problem << "Profile End (" << this->ProfileEnd << " mm) must be beyond Profile Start ("
            << this->ProfileStart << " mm): the profile modes read along that stretch.";
  }
  else if (this->ProfileSamples < 2)
  {
    problem << "Profile Samples must be at least 2 for the profile modes (it is "
            << this->ProfileSamples << ").";
  }
  return problem.str();
}

probe::SamplingPlan vtkNormalOffsetProbe::MakeSamplingPlan()
{
  probe::SamplingPlan plan;
  plan.mode = static_cast<probe::Mode>(this->Mode);
  plan.offset = this->Offset;
  plan.profileStart = this->ProfileStart;
  plan.profileEnd = this->ProfileEnd;
  plan.profileSamples = this->ProfileSamples;
  return plan;
}

ibc::contact::ContactRule vtkNormalOffsetProbe::MakeContactRule(
  const probe::SamplingPlan& plan) const
{
  ibc::contact::ContactRule rule;
  rule.contactDistance = this->ContactDistance;
  rule.boneThresholdHU = this->BoneThreshold;
  rule.maximumInterfaceSearch = std::max(0.5, plan.profileEnd);
  return rule;
}

probe::AutomaticRule vtkNormalOffsetProbe::MakeAutomaticRule() const
{
  probe::AutomaticRule rule;
  rule.slopeThreshold = this->SlopeThreshold;
  rule.bandWidth = this->BandWidth;
  rule.margin = this->Margin;
  return rule;
}

void vtkNormalOffsetProbe::ReadProfiles(const probe::VolumeBlock& block,
  bool hasVoxels,
  const std::vector<Vec3>& points,
  const std::vector<Triangle>& triangles,
  const std::vector<Vec3>& normals,
  const ibc::Collective& comm,
  Readings& readings,
  vtkPolyData* output)
{
  const probe::SamplingPlan plan = this->MakeSamplingPlan();
  const bool metalCorrected = plan.mode == probe::Mode::MetalCorrected;
  const std::vector<double> distances = plan.distances();
  const auto samples = static_cast<std::int64_t>(distances.size());
  const auto pointCount = static_cast<vtkIdType>(points.size());
  const auto interpolation = static_cast<probe::Interpolation>(this->Interpolation);
  std::vector<Vec3> baseIndices(points.size());
  std::vector<Vec3> indexSteps(points.size());
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    baseIndices[i] = block.toIndex(points[i]);
    indexSteps[i] = block.directionToIndex(normals[i]);
  }
  const std::vector<double> sliceComponents = probe::sliceComponents(block, normals);

  // Metal-corrected mode: the metal's contribution, fitted to the whole stem's profiles, its
  // blurred edge following the surface's curvature.
  ibc::contact::MetalModel metal;
  std::vector<ibc::contact::SurfaceCurvature> curvatures;
  if (metalCorrected)
  {
    const double* sliceRow = block.physicalToIndex + 8;
    curvatures = probe::surfaceCurvatures(
      points, triangles, normals, Vec3{ sliceRow[0], sliceRow[1], sliceRow[2] }, comm);
    metal = probe::fitMetalAcrossRanks(block,
      hasVoxels,
      points,
      triangles,
      baseIndices,
      indexSteps,
      sliceComponents,
      curvatures,
      plan.fitDistances(),
      interpolation,
      comm);
    if (!metal.valid && comm.rank() == 0)
    {
      vtkWarningMacro("No metal shows inside the surface (the CT reads like tissue there): the "
                      "metal's blooming cannot be corrected and the values are read as they are "
                      "(SampleConfidence 0.25). Check that the surface is the implant, "
                      "registered to this CT.");
    }
    this->UpdateProgress(0.3);
  }
  const ibc::contact::ContactRule contactRule = this->MakeContactRule(plan);
  const probe::AutomaticRule rule = this->MakeAutomaticRule();

  // With Store Profile, the metal-corrected mode also keeps what it read: the tissue profile with
  // the metal term taken out (NaN where the metal hides the tissue).
  vtkSmartPointer<vtkDoubleArray> correctedArray;
  if (metalCorrected && this->StoreProfile)
  {
    correctedArray = profileArray(readings.value->GetName(), "CorrectedProfile", samples, pointCount);
  }

  // One value per vertex, from the profiles of vertices [first, last).
  auto reduceProfiles =
    [&](vtkIdType first, vtkIdType last, const double* values, const std::uint8_t* status)
  {
    vtkSMPTools::For(first, last,
      [&](vtkIdType begin, vtkIdType end)
      {
        constexpr double NaN = std::numeric_limits<double>::quiet_NaN();
        for (vtkIdType v = begin; v < end; ++v)
        {
          const double* profile = values + (v - first) * samples;
          const std::uint8_t* profileStatus = status + (v - first) * samples;
          readings.outside[v] =
            std::find(profileStatus, profileStatus + samples, probe::OutsideVolume) !=
            profileStatus + samples;
          if (metalCorrected)
          {
            ibc::contact::ProfileSampling sampling =
              probe::profileSampling(block, baseIndices[v], indexSteps[v], interpolation);
            sampling.curvature = curvatures[v];
            const ibc::contact::ContactReading reading = ibc::contact::readContact(
              metal, sliceComponents[v], distances, profile, contactRule, &sampling,
              correctedArray ? correctedArray->GetPointer(v * samples) : nullptr);
            readings.value->SetValue(v, reading.value);
            readings.sampleDistance->SetValue(v, reading.distance);
            readings.interfaceWidth->SetValue(v, reading.interfaceWidth);
            readings.confidence->SetValue(v, reading.confidence);
            readings.mask->SetValue(v, std::isfinite(reading.value) ? 1 : 0);
            readings.status[v] = static_cast<std::uint8_t>(reading.status);
            readings.outside[v] = reading.status == ibc::contact::ReadingStatus::OutsideVolume;
            continue;
          }
          const probe::ProfileResult reduced =
            probe::reduceProfile(distances, profile, plan.mode, rule);
          readings.value->SetValue(v, reduced.valid ? reduced.value : NaN);
          readings.mask->SetValue(v, reduced.valid ? 1 : 0);
          readings.sampleDistance->SetValue(v, reduced.valid ? reduced.distance : NaN);
        }
      });
  };

  vtkSmartPointer<vtkDoubleArray> rawArray;
  if (!comm.distributed() && !this->StoreProfile)
  {
    // Everything is local: sample and reduce chunk by chunk, so that the profiles of a large
    // surface never sit in memory all at once.
    constexpr vtkIdType chunk = 65536;
    std::vector<double> values(static_cast<std::size_t>(std::min(chunk, pointCount) * samples));
    std::vector<std::uint8_t> status(values.size());
    for (vtkIdType first = 0; first < pointCount; first += chunk)
    {
      const vtkIdType last = std::min(pointCount, first + chunk);
      probe::sampleProfiles(block, baseIndices.data() + first, indexSteps.data() + first,
        last - first, distances, interpolation, values.data(), status.data());
      reduceProfiles(first, last, values.data(), status.data());
      this->UpdateProgress(0.3 + 0.6 * static_cast<double>(last) / pointCount);
    }
  }
  else
  {
    std::vector<double> values(points.size() * samples);
    std::vector<std::uint8_t> status(values.size());
    probe::sampleProfilesAcrossRanks(block, hasVoxels, baseIndices.data(), indexSteps.data(),
      pointCount, distances, interpolation, comm, values.data(), status.data());
    reduceProfiles(0, pointCount, values.data(), status.data());
    if (this->StoreProfile)
    {
      rawArray = profileArray(readings.value->GetName(), "Profile", samples, pointCount);
      std::copy(values.begin(), values.end(), rawArray->GetPointer(0));
    }
  }
  readings.addValuesTo(output->GetPointData());
  for (vtkDoubleArray* array : { rawArray.Get(), correctedArray.Get() })
  {
    if (array)
    {
      output->GetPointData()->AddArray(array);
    }
  }
  if (metalCorrected)
  {
    this->ReportMetalModel(output, metal, readings.status, points, triangles, comm);
  }
}

void vtkNormalOffsetProbe::ReportUnsampled(vtkPolyData* surface,
  const probe::VolumeBlock& block,
  const Readings& readings,
  const ibc::Collective& comm)
{
  const auto pointCount = static_cast<vtkIdType>(readings.outside.size());
  std::int64_t tallies[3] = { 0, 0, pointCount }; // not sampled, outside the volume, all
  for (vtkIdType v = 0; v < pointCount; ++v)
  {
    tallies[0] += readings.mask->GetValue(v) ? 0 : 1;
    tallies[1] += readings.outside[v];
  }
  comm.sum(tallies, 3);
  double surfaceBounds[6];
  globalBounds(surface, comm, surfaceBounds);
  if (comm.rank() != 0 || tallies[0] == 0)
  {
    return;
  }
  std::ostringstream message;
  message << tallies[0] << " of " << tallies[2] << " points could not be sampled (NaN, "
          << "vtkValidPointMask 0)";
  if (tallies[1] > 0)
  {
    message << "; " << tallies[1] << " of them reach outside the volume"
            << (this->NonFiniteVoxels > 0 ? " or touch its NaN or infinite voxels" : "");
  }
  if (this->Mode == AUTOMATIC && tallies[1] < tallies[0])
  {
    message << "; where the metal's fall-off did not end within Profile End (" << this->ProfileEnd
            << " mm), lengthen the profile";
  }
  message << ".";
  if (2 * tallies[1] > tallies[2])
  {
    double volumeBounds[6];
    wholeVolumeBounds(block, volumeBounds);
    message << " Most points lie outside the volume." << likelyCause(surfaceBounds, volumeBounds);
  }
  vtkWarningMacro(<< message.str());
}

void vtkNormalOffsetProbe::ReportMetalModel(vtkPolyData* output,
  const ibc::contact::MetalModel& metal,
  const std::vector<std::uint8_t>& readingStatus,
  const std::vector<Vec3>& points,
  const std::vector<Triangle>& triangles,
  const ibc::Collective& comm)
{
  vtkFieldData* field = output->GetFieldData();
  field->AddArray(ibc::fieldScalar("MetalModelValid", metal.valid ? 1.0 : 0.0));
  field->AddArray(ibc::fieldScalar("MetalHU", metal.metalHU));
  field->AddArray(ibc::fieldScalar("MetalEdgeSigmaInPlane", metal.sigmaInPlane));
  field->AddArray(ibc::fieldScalar("MetalEdgeSigmaThroughPlane", metal.sigmaThroughPlane));
  field->AddArray(
    ibc::fieldScalar("MetalClipHU", std::isfinite(metal.clipHU) ? metal.clipHU : -1.0));
  field->AddArray(ibc::fieldScalar("MetalFitResidualHU", metal.residualHU));
  field->AddArray(ibc::fieldScalar("MetalFitProfiles", static_cast<double>(metal.profilesUsed)));
  // The model's measured remaining error, by distance in edge spreads (bins of 0.25).
  vtkNew<vtkDoubleArray> residual;
  residual->SetName("MetalTissueResidualHU");
  for (const double value : metal.tissueResidual)
  {
    residual->InsertNextValue(value);
  }
  field->AddArray(residual);

  // How each point was read, counting a point on the cut between surface pieces once.
  const std::vector<char> owned = comm.distributed()
    ? ibc::ownedPoints(
        points, probe::openEdgeVertices(static_cast<std::int64_t>(points.size()), triangles), comm)
    : std::vector<char>(points.size(), 1);
  std::int64_t counts[4] = { 0, 0, 0, 0 };
  for (std::size_t i = 0; i < readingStatus.size(); ++i)
  {
    counts[std::min<int>(readingStatus[i], 3)] += owned[i] ? 1 : 0;
  }
  comm.sum(counts, 4);
  const char* names[4] = { "PointsReadAtContact", "PointsReadFartherOut",
    "PointsMetalEverywhere", "PointsOutsideVolume" };
  for (int i = 0; i < 4; ++i)
  {
    field->AddArray(ibc::fieldScalar(names[i], static_cast<double>(counts[i])));
  }
  if (comm.rank() == 0 && (counts[1] > 0 || counts[2] > 0))
  {
    const std::int64_t total = counts[0] + counts[1] + counts[2] + counts[3];
    std::ostringstream message;
    message << "Metal model: " << metal.metalHU << " HU, edge spread " << metal.sigmaInPlane
            << " mm in-plane and " << metal.sigmaThroughPlane << " mm through-plane. Of "
            << total << " points, " << counts[1]
            << " were read farther out than Contact Distance, where the metal's remaining "
               "blooming is known well enough (SampleConfidence below 1)";
    if (counts[2] > 0)
    {
      message << ", and at " << counts[2]
              << " the metal dominates the whole profile (SampleConfidence 0; lengthen Profile "
                 "End)";
    }
    message << ".";
    // A warning (in the GUI it opens the Output Messages window) only where the user should
    // look: a profile the metal hides entirely, or a notable share read farther out. A few
    // points at sharp corners are usual; the counts stay in the field data.
    const double share =
      static_cast<double>(counts[1] + counts[2]) / std::max<std::int64_t>(1, total);
    if (counts[2] > 0 || share >= NotableShareReadFartherOut)
    {
      vtkWarningMacro(<< message.str());
    }
    else
    {
      vtkLog(INFO, << message.str());
    }
  }
}

void vtkNormalOffsetProbe::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Mode: " << this->Mode << "\n";
  os << indent << "Offset: " << this->Offset << "\n";
  os << indent << "Profile: " << this->ProfileStart << " to " << this->ProfileEnd << " in "
     << this->ProfileSamples << " samples\n";
  os << indent << "Interpolation: " << this->Interpolation << "\n";
  os << indent << "RecomputeNormals: " << this->RecomputeNormals << "\n";
  os << indent << "FlipNormals: " << this->FlipNormals << "\n";
}
