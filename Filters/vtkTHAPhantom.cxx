// SPDX-License-Identifier: BSD-3-Clause
#include "vtkTHAPhantom.h"

#include "ibcPipeline.h"
#include "ibcSMP.h"
#include "ibcSurfaceArrays.h"
#include "ibcTHAPhantomModel.h"

#include <vtkCellArray.h>
#include <vtkDoubleArray.h>
#include <vtkExecutive.h>
#include <vtkFieldData.h>
#include <vtkFloatArray.h>
#include <vtkFlyingEdges3D.h>
#include <vtkIdTypeArray.h>
#include <vtkImageData.h>
#include <vtkInformation.h>
#include <vtkInformationVector.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkQuadricDecimation.h>
#include <vtkShortArray.h>
#include <vtkSmartPointer.h>
#include <vtkStreamingDemandDrivenPipeline.h>
#include <vtkUnsignedCharArray.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include <algorithm>
#include <cmath>

vtkStandardNewMacro(vtkTHAPhantom);

vtkTHAPhantom::vtkTHAPhantom()
  : OutputScalarType(VTK_SHORT)
{
  this->SetNumberOfInputPorts(0);
  this->SetNumberOfOutputPorts(2);
  ibc::useThreadedBackend();
}

int vtkTHAPhantom::FillOutputPortInformation(int port, vtkInformation* info)
{
  info->Set(vtkDataObject::DATA_TYPE_NAME(), port == 0 ? "vtkImageData" : "vtkPolyData");
  return 1;
}

vtkTypeBool vtkTHAPhantom::ProcessRequest(vtkInformation* request,
  vtkInformationVector** inputs,
  vtkInformationVector* outputs)
{
  if (request->Has(vtkDemandDrivenPipeline::REQUEST_INFORMATION()))
  {
    return this->RequestInformation(outputs);
  }
  if (request->Has(vtkDemandDrivenPipeline::REQUEST_DATA()))
  {
    // Which port asked: a consumer of the surface alone (Implant Remesh) does not need the
    // volume, and under MPI would otherwise make the whole volume on every rank.
    const int port = request->Has(vtkExecutive::FROM_OUTPUT_PORT())
      ? request->Get(vtkExecutive::FROM_OUTPUT_PORT())
      : -1;
    return this->RequestData(outputs, port != 1);
  }
  return this->Superclass::ProcessRequest(request, inputs, outputs);
}

namespace
{
ibc::phantom::Parameters parametersOf(const vtkTHAPhantom* self)
{
  auto* phantom = const_cast<vtkTHAPhantom*>(self);
  ibc::phantom::Parameters p;
  p.side = phantom->GetSide() == vtkTHAPhantom::LEFT ? ibc::phantom::Side::Left
                                                     : ibc::phantom::Side::Right;
  p.varusValgusDegrees = phantom->GetVarusValgusTilt();
  p.pattern = static_cast<ibc::phantom::ContactPattern>(phantom->GetContactPattern());
  p.contactLayerThickness = phantom->GetContactLayerThickness();
  p.membraneThickness = phantom->GetMembraneThickness();
  p.truthDistance = phantom->GetTruthDistance();
  p.truthDepthTolerance = phantom->GetTruthDepthTolerance();
  p.resectionLevel = phantom->GetResectionLevel();
  p.tipZoneLength = phantom->GetTipZoneLength();
  p.corticalHU = phantom->GetCorticalHU();
  p.cancellousHU = phantom->GetCancellousHU();
  p.cancellousTextureHU = phantom->GetCancellousTexture();
  p.fibrousTissueHU = phantom->GetFibrousTissueHU();
  p.metalHU = phantom->GetMetalHU();
  p.otherMetal = static_cast<ibc::phantom::OtherMetal>(phantom->GetOtherMetal());
  p.headHU = phantom->GetHeadHU();
  const double* spacing = phantom->GetSpacing();
  p.spacing = { { spacing[0], spacing[1], spacing[2] } };
  p.margin = phantom->GetMargin();
  p.supersampling = phantom->GetSupersampling();
  p.blurSigma = phantom->GetBlurSigma();
  p.bloomingWidth = phantom->GetBloomingWidth();
  p.beamHardeningHU = phantom->GetBeamHardening();
  p.streakHU = phantom->GetStreakDepth();
  p.noiseSigma = phantom->GetNoiseSigma();
  p.clip = phantom->GetClip();
  p.clipMaximumHU = phantom->GetClipMaximum();
  p.seed = static_cast<unsigned int>(phantom->GetSeed());
  p.chordTolerance = phantom->GetChordTolerance();
  return p;
}
}

int vtkTHAPhantom::RequestInformation(vtkInformationVector* outputs)
{
  if (this->Spacing[0] <= 0.0 || this->Spacing[1] <= 0.0 || this->Spacing[2] <= 0.0)
  {
    vtkErrorMacro("Spacing must be positive in all three directions; got "
      << this->Spacing[0] << ", " << this->Spacing[1] << ", " << this->Spacing[2] << ".");
    return 0;
  }
  const ibc::phantom::PhantomModel model(parametersOf(this));
  int extent[6];
  double origin[3];
  model.wholeExtent(extent);
  model.origin(origin);

  vtkInformation* imageInfo = outputs->GetInformationObject(0);
  imageInfo->Set(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), extent, 6);
  imageInfo->Set(vtkDataObject::SPACING(), this->Spacing, 3);
  imageInfo->Set(vtkDataObject::ORIGIN(), origin, 3);
  imageInfo->Set(vtkAlgorithm::CAN_PRODUCE_SUB_EXTENT(), 1);
  const int scalarType = this->OutputScalarType == VTK_FLOAT ? VTK_FLOAT : VTK_SHORT;
  vtkDataObject::SetPointDataActiveScalarInfo(imageInfo, scalarType, 1);

  vtkInformation* surfaceInfo = outputs->GetInformationObject(1);
  surfaceInfo->Set(vtkAlgorithm::CAN_HANDLE_PIECE_REQUEST(), 1);
  return 1;
}

int vtkTHAPhantom::RequestData(vtkInformationVector* outputs, bool volumeAsked)
{
  const ibc::phantom::PhantomModel model(parametersOf(this));
  this->WriteVolume(model, outputs->GetInformationObject(0), volumeAsked);
  this->WriteSurface(model, outputs->GetInformationObject(1));
  this->UpdateProgress(1.0);
  return 1;
}

namespace
{
/// A slab of at least this many voxels is generated at a time (see WriteVolume).
constexpr vtkIdType SlabVoxels = 2 * 1024 * 1024;

/// Stores float HU into the output array from `offset` on: as they are, or rounded and clamped
/// to int16 as a CT stores them.
void storeHU(const std::vector<float>& hu, vtkDataArray* scalars, vtkIdType offset)
{
  if (auto* floats = vtkFloatArray::SafeDownCast(scalars))
  {
    std::copy(hu.begin(), hu.end(), floats->GetPointer(offset));
    return;
  }
  short* out = vtkShortArray::SafeDownCast(scalars)->GetPointer(offset);
  for (std::size_t i = 0; i < hu.size(); ++i)
  {
    out[i] = static_cast<short>(std::clamp(std::lround(hu[i]), -32768L, 32767L));
  }
}
} // namespace

void vtkTHAPhantom::WriteVolume(const ibc::phantom::PhantomModel& model,
  vtkInformation* imageInfo,
  bool asked)
{
  // Only the requested extent.
  vtkImageData* image = vtkImageData::GetData(imageInfo);
  int extent[6];
  model.wholeExtent(extent);
  if (imageInfo->Has(vtkStreamingDemandDrivenPipeline::UPDATE_EXTENT()))
  {
    imageInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_EXTENT(), extent);
  }
  // A two-port source runs again when the second port's request arrives with another piece
  // than the first's (under MPI the surface's request follows the volume's): the volume it
  // made for this extent is kept and handed out again rather than made twice.
  if (this->CachedVolume && this->CachedVolumeTime == this->GetMTime() &&
    std::equal(extent, extent + 6, this->CachedVolume->GetExtent()))
  {
    image->ShallowCopy(this->CachedVolume);
    return;
  }
  double origin[3];
  model.origin(origin);
  if (!asked)
  {
    // Only the surface was asked for: an empty volume; a later request for it makes it (the
    // executive sees that its extent holds no voxels).
    image->SetExtent(0, -1, 0, -1, 0, -1);
    image->SetOrigin(origin);
    image->SetSpacing(this->Spacing);
    return;
  }
  image->SetExtent(extent);
  image->SetOrigin(origin);
  image->SetSpacing(this->Spacing);
  const vtkIdType voxels = image->GetNumberOfPoints();
  if (voxels > 0)
  {
    vtkNew<vtkUnsignedCharArray> labels;
    labels->SetName("TissueLabel");
    if (this->GenerateTissueLabels)
    {
      labels->SetNumberOfTuples(voxels);
    }
    vtkSmartPointer<vtkDataArray> scalars;
    if (this->OutputScalarType == VTK_FLOAT)
    {
      scalars = vtkSmartPointer<vtkFloatArray>::New();
    }
    else
    {
      scalars = vtkSmartPointer<vtkShortArray>::New();
    }
    scalars->SetName("HU");
    scalars->SetNumberOfTuples(voxels);
    // Slab by slab in z: the model's working arrays (the partial-volume field with the blur's
    // margin, the blur passes, the float HU) are several times the output's bytes, and so held
    // for one slab at a time only. The phantom is analytic: slabs match the whole volume.
    const vtkIdType sliceVoxels =
      vtkIdType(extent[1] - extent[0] + 1) * vtkIdType(extent[3] - extent[2] + 1);
    const int slices = extent[5] - extent[4] + 1;
    const int slabSlices =
      static_cast<int>(std::max<vtkIdType>(16, SlabVoxels / std::max<vtkIdType>(1, sliceVoxels)));
    std::vector<float> hu;
    for (int first = 0; first < slices; first += slabSlices)
    {
      int slab[6] = { extent[0],
        extent[1],
        extent[2],
        extent[3],
        extent[4] + first,
        std::min(extent[5], extent[4] + first + slabSlices - 1) };
      const vtkIdType offset = first * sliceVoxels;
      const vtkIdType count = (slab[5] - slab[4] + 1) * sliceVoxels;
      hu.resize(static_cast<std::size_t>(count));
      const double done = static_cast<double>(first) / slices;
      const double share = static_cast<double>(slab[5] - slab[4] + 1) / slices;
      model.generateVolume(slab,
        hu.data(),
        this->GenerateTissueLabels ? labels->GetPointer(offset) : nullptr,
        [this, done, share](double fraction)
        { this->UpdateProgress(0.9 * (done + share * fraction)); });
      storeHU(hu, scalars, offset);
    }
    image->GetPointData()->SetScalars(scalars);
    if (this->GenerateTissueLabels)
    {
      image->GetPointData()->AddArray(labels);
    }
    ibc::cacheArrayRanges(image->GetPointData());
  }
  this->CachedVolume = vtkSmartPointer<vtkImageData>::New();
  this->CachedVolume->ShallowCopy(image);
  this->CachedVolumeTime = this->GetMTime();
}

ibc::phantom::Surface vtkTHAPhantom::SegmentedExport(const ibc::phantom::PhantomModel& model) const
{
  // A labelmap of the stem, its closed surface as a segmentation tool makes it (marching cubes,
  // then windowed-sinc smoothing with a pass band of 0.01, as 3D Slicer's smoothing factor 0.5
  // does), then decimated.
  const ibc::phantom::PhantomModel::StemMask mask = model.stemMask(this->SegmentationVoxelSize);
  vtkNew<vtkImageData> labelmap;
  labelmap->SetDimensions(mask.dimensions);
  labelmap->SetOrigin(mask.origin);
  labelmap->SetSpacing(mask.spacing, mask.spacing, mask.spacing);
  vtkNew<vtkUnsignedCharArray> labels;
  labels->SetName("Stem");
  labels->SetNumberOfTuples(static_cast<vtkIdType>(mask.inside.size()));
  std::copy(mask.inside.begin(), mask.inside.end(), labels->GetPointer(0));
  labelmap->GetPointData()->SetScalars(labels);
  vtkNew<vtkFlyingEdges3D> contour;
  contour->SetInputData(labelmap);
  contour->SetValue(0, 0.5);
  contour->ComputeNormalsOff();
  contour->ComputeGradientsOff();
  contour->ComputeScalarsOff();
  vtkNew<vtkWindowedSincPolyDataFilter> smooth;
  smooth->SetInputConnection(contour->GetOutputPort());
  smooth->SetNumberOfIterations(20);
  smooth->SetPassBand(0.01);
  smooth->NormalizeCoordinatesOn();
  smooth->BoundarySmoothingOff();
  smooth->FeatureEdgeSmoothingOff();
  smooth->NonManifoldSmoothingOn();
  smooth->Update();
  vtkPolyData* smoothed = smooth->GetOutput();
  vtkNew<vtkQuadricDecimation> decimate;
  decimate->SetInputData(smoothed);
  const vtkIdType cells = smoothed->GetNumberOfCells();
  const vtkIdType wanted = this->SegmentedTriangleCount;
  decimate->SetTargetReduction(wanted > 0 && cells > wanted ? 1.0 - double(wanted) / cells : 0.0);
  decimate->VolumePreservationOn();
  decimate->Update();
  std::vector<ibc::Vec3> points;
  std::vector<std::array<std::int64_t, 3>> triangles;
  ibc::surfaceToArrays(decimate->GetOutput(), points, triangles);
  return model.annotatedSurface(std::move(points), std::move(triangles));
}

void vtkTHAPhantom::WriteSurface(const ibc::phantom::PhantomModel& model,
  vtkInformation* surfaceInfo)
{
  // On piece 0, or split over the pieces.
  vtkPolyData* output = vtkPolyData::GetData(surfaceInfo);
  int piece = 0;
  int numberOfPieces = 1;
  if (surfaceInfo->Has(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER()))
  {
    piece = surfaceInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER());
    numberOfPieces = surfaceInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES());
  }
  const ibc::phantom::Surface surface =
    this->SurfaceKind == SEGMENTED_EXPORT ? this->SegmentedExport(model) : model.generateSurface();
  const auto triangleCount = static_cast<vtkIdType>(surface.triangles.size());
  vtkIdType firstTriangle = 0;
  vtkIdType endTriangle = triangleCount;
  if (this->DistributeSurface && numberOfPieces > 1)
  {
    firstTriangle = triangleCount * piece / numberOfPieces;
    endTriangle = triangleCount * (piece + 1) / numberOfPieces;
  }
  else if (piece != 0)
  {
    endTriangle = 0;
  }

  // Keep the points the piece's triangles use, in their original order.
  std::vector<vtkIdType> newIndex(surface.points.size(), -1);
  for (vtkIdType t = firstTriangle; t < endTriangle; ++t)
  {
    for (const std::int64_t id : surface.triangles[t])
    {
      newIndex[id] = 0;
    }
  }
  vtkNew<vtkPoints> points;
  points->SetDataTypeToDouble();
  vtkNew<vtkFloatArray> normals;
  normals->SetName("TrueNormals");
  normals->SetNumberOfComponents(3);
  vtkNew<vtkUnsignedCharArray> tissueClass;
  tissueClass->SetName("TrueTissueClass");
  vtkNew<vtkUnsignedCharArray> robust;
  robust->SetName("TrueTissueClassIsRobust");
  vtkNew<vtkUnsignedCharArray> zone;
  zone->SetName("TrueGruenZone");
  vtkNew<vtkFloatArray> interfaceWidth;
  interfaceWidth->SetName("TrueInterfaceWidth");
  vtkNew<vtkIdTypeArray> originalIds;
  originalIds->SetName("PhantomPointId");
  for (std::size_t i = 0; i < surface.points.size(); ++i)
  {
    if (newIndex[i] < 0)
    {
      continue;
    }
    const ibc::Vec3& p = surface.points[i];
    const ibc::Vec3& n = surface.trueNormals[i];
    newIndex[i] = points->InsertNextPoint(p.x, p.y, p.z);
    normals->InsertNextTuple3(n.x, n.y, n.z);
    tissueClass->InsertNextValue(surface.trueTissueClass[i]);
    robust->InsertNextValue(surface.trueTissueClassIsRobust[i]);
    zone->InsertNextValue(surface.trueGruenZone[i]);
    interfaceWidth->InsertNextValue(surface.trueInterfaceWidth[i]);
    originalIds->InsertNextValue(static_cast<vtkIdType>(i));
  }
  vtkNew<vtkCellArray> polys;
  for (vtkIdType t = firstTriangle; t < endTriangle; ++t)
  {
    const auto& triangle = surface.triangles[t];
    const vtkIdType ids[3] = {
      newIndex[triangle[0]], newIndex[triangle[1]], newIndex[triangle[2]]
    };
    polys->InsertNextCell(3, ids);
  }
  output->SetPoints(points);
  output->SetPolys(polys);
  output->GetPointData()->AddArray(normals);
  output->GetPointData()->AddArray(tissueClass);
  output->GetPointData()->AddArray(robust);
  output->GetPointData()->AddArray(zone);
  output->GetPointData()->AddArray(interfaceWidth);
  output->GetPointData()->AddArray(originalIds);

  vtkFieldData* frame = output->GetFieldData();
  frame->AddArray(ibc::fieldVector("StemTipPoint", model.tipPoint()));
  frame->AddArray(ibc::fieldVector("StemAxisDirection", model.axisDirection()));
  frame->AddArray(ibc::fieldVector("StemMedialDirection", model.medialDirection()));
  frame->AddArray(ibc::fieldVector("StemAnteriorDirection", model.anteriorDirection()));
  frame->AddArray(ibc::fieldScalar("ResectionLevel", this->ResectionLevel));
  frame->AddArray(ibc::fieldScalar("TipZoneLength", this->TipZoneLength));
  frame->AddArray(ibc::fieldScalar("TruthDistance", this->TruthDistance));
}

void vtkTHAPhantom::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Side: " << (this->Side == LEFT ? "Left" : "Right") << "\n";
  os << indent << "VarusValgusTilt: " << this->VarusValgusTilt << "\n";
  os << indent << "ContactPattern: " << this->ContactPattern << "\n";
  os << indent << "Spacing: " << this->Spacing[0] << " " << this->Spacing[1] << " "
     << this->Spacing[2] << "\n";
  os << indent << "BloomingWidth: " << this->BloomingWidth << "\n";
  os << indent << "OtherMetal: " << this->OtherMetal << "\n";
  os << indent << "NoiseSigma: " << this->NoiseSigma << "\n";
  os << indent << "SurfaceKind: " << (this->SurfaceKind == SEGMENTED_EXPORT ? "Segmented" : "CAD")
     << "\n";
}
