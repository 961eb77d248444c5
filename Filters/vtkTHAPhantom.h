// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkTHAPhantom
 * @brief   synthetic post-operative CT of a femur with a femoral stem, with ground truth
 *
 * Output port 0 is a vtkImageData in LPS millimetres with point arrays `HU` and `TissueLabel`
 * (see ibc::phantom::Tissue). Output port 1 is the stem surface as a CAD export tessellates
 * it, with point arrays `TrueTissueClass` (1 soft tissue, 2 cancellous, 3 cortical, read
 * TruthDistance outside the surface along the true normal), `TrueGruenZone` (0-14) and
 * `TrueNormals`, and the stem frame as field data.
 *
 * The volume supports sub-extent requests: each MPI rank computes only its piece (plus the
 * margin the blur needs, computed from the analytic model, not exchanged). The surface is
 * produced on piece 0, or split over the pieces when DistributeSurface is on.
 *
 * The geometry and the CT model live in ibcTHAPhantomModel.h; this class only wraps them.
 */
#ifndef vtkTHAPhantom_h
#define vtkTHAPhantom_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "vtkAlgorithm.h"
#include "vtkSmartPointer.h" // for vtkSmartPointer

class vtkImageData;

namespace ibc
{
namespace phantom
{
class PhantomModel;
struct Surface;
}
}

class IMPLANTBONECONTACTFILTERS_EXPORT vtkTHAPhantom : public vtkAlgorithm
{
public:
  static vtkTHAPhantom* New();
  vtkTypeMacro(vtkTHAPhantom, vtkAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum SideType
  {
    RIGHT = 0,
    LEFT = 1
  };
  enum PatternType
  {
    MIXED = 0,
    PRESS_FIT = 1,
    LOOSENED = 2,
    CANCELLOUS = 3
  };

  ///@{
  /// Anatomy and placement of the stem.
  vtkSetClampMacro(Side, int, RIGHT, LEFT);
  vtkGetMacro(Side, int);
  vtkSetClampMacro(VarusValgusTilt, double, -5.0, 5.0);
  vtkGetMacro(VarusValgusTilt, double);
  vtkSetClampMacro(ContactPattern, int, MIXED, CANCELLOUS);
  vtkGetMacro(ContactPattern, int);
  vtkSetClampMacro(ContactLayerThickness, double, 0.0, 20.0);
  vtkGetMacro(ContactLayerThickness, double);
  /// Fibrous membrane thickness (mm) where the pattern puts one; negative: the contact layer's.
  vtkSetClampMacro(MembraneThickness, double, -1.0, 20.0);
  vtkGetMacro(MembraneThickness, double);
  vtkSetClampMacro(TruthDistance, double, 0.0, 20.0);
  vtkGetMacro(TruthDistance, double);
  /// TrueTissueClassIsRobust: the class holds within this depth (mm) of TruthDistance.
  vtkSetClampMacro(TruthDepthTolerance, double, 0.0, 20.0);
  vtkGetMacro(TruthDepthTolerance, double);
  vtkSetClampMacro(ResectionLevel, double, 40.0, 160.0);
  vtkGetMacro(ResectionLevel, double);
  vtkSetClampMacro(TipZoneLength, double, 0.0, 40.0);
  vtkGetMacro(TipZoneLength, double);
  ///@}

  ///@{
  /// Tissue values in HU.
  vtkSetMacro(CorticalHU, double);
  vtkGetMacro(CorticalHU, double);
  vtkSetMacro(CancellousHU, double);
  vtkGetMacro(CancellousHU, double);
  vtkSetClampMacro(CancellousTexture, double, 0.0, 1000.0);
  vtkGetMacro(CancellousTexture, double);
  vtkSetMacro(FibrousTissueHU, double);
  vtkGetMacro(FibrousTissueHU, double);
  vtkSetMacro(MetalHU, double);
  vtkGetMacro(MetalHU, double);
  ///@}

  ///@{
  /// Metal in the field besides the stem, never part of the stem surface: NO_OTHER_METAL,
  /// FEMORAL_HEAD (28 mm, HeadHU) or HEAD_AND_CUP (and a 52 mm shell of MetalHU with a
  /// polyethylene liner, in pelvic bone). The head and cup bloom and streak like the stem.
  enum OtherMetalKinds
  {
    NO_OTHER_METAL = 0,
    FEMORAL_HEAD = 1,
    HEAD_AND_CUP = 2
  };
  vtkSetClampMacro(OtherMetal, int, NO_OTHER_METAL, HEAD_AND_CUP);
  vtkGetMacro(OtherMetal, int);
  vtkSetMacro(HeadHU, double);
  vtkGetMacro(HeadHU, double);
  ///@}

  ///@{
  /// Image geometry (mm).
  vtkSetVector3Macro(Spacing, double);
  vtkGetVector3Macro(Spacing, double);
  vtkSetClampMacro(Margin, double, 0.0, 500.0);
  vtkGetMacro(Margin, double);
  ///@}

  ///@{
  /// CT effects.
  vtkSetClampMacro(Supersampling, int, 1, 8);
  vtkGetMacro(Supersampling, int);
  vtkSetClampMacro(BlurSigma, double, 0.0, 5.0);
  vtkGetMacro(BlurSigma, double);
  vtkSetClampMacro(BloomingWidth, double, 0.0, 10.0);
  vtkGetMacro(BloomingWidth, double);
  vtkSetClampMacro(BeamHardening, double, 0.0, 2000.0);
  vtkGetMacro(BeamHardening, double);
  /// Depth (HU) of the medial-lateral streaks; negative: 0.6 x BeamHardening.
  vtkSetClampMacro(StreakDepth, double, -1.0, 2000.0);
  vtkGetMacro(StreakDepth, double);
  vtkSetClampMacro(NoiseSigma, double, 0.0, 1000.0);
  vtkGetMacro(NoiseSigma, double);
  vtkSetMacro(Clip, bool);
  vtkGetMacro(Clip, bool);
  vtkBooleanMacro(Clip, bool);
  vtkSetMacro(ClipMaximum, double);
  vtkGetMacro(ClipMaximum, double);
  vtkSetMacro(Seed, int);
  vtkGetMacro(Seed, int);
  ///@}

  ///@{
  /// Output options. OutputScalarType is VTK_SHORT (as a CT stores HU) or VTK_FLOAT.
  vtkSetClampMacro(ChordTolerance, double, 1e-4, 1.0);
  vtkGetMacro(ChordTolerance, double);
  vtkSetMacro(OutputScalarType, int);
  vtkGetMacro(OutputScalarType, int);
  vtkSetMacro(GenerateTissueLabels, bool);
  vtkGetMacro(GenerateTissueLabels, bool);
  vtkBooleanMacro(GenerateTissueLabels, bool);
  vtkSetMacro(DistributeSurface, bool);
  vtkGetMacro(DistributeSurface, bool);
  vtkBooleanMacro(DistributeSurface, bool);
  ///@}

  enum SurfaceKindType
  {
    CAD_EXPORT = 0,
    SEGMENTED_EXPORT = 1
  };
  ///@{
  /// The stem surface of output port 1: as a CAD export tessellates it (exact vertices, fans and
  /// slivers), or as a segmentation exports it: a labelmap of SegmentationVoxelSize (mm),
  /// marching cubes, smoothing, then decimation to about SegmentedTriangleCount triangles (0:
  /// none). Ground truth at every vertex either way (from the nearest point of the exact stem).
  vtkSetClampMacro(SurfaceKind, int, CAD_EXPORT, SEGMENTED_EXPORT);
  vtkGetMacro(SurfaceKind, int);
  vtkSetClampMacro(SegmentationVoxelSize, double, 0.1, 5.0);
  vtkGetMacro(SegmentationVoxelSize, double);
  vtkSetClampMacro(SegmentedTriangleCount, vtkIdType, 0, VTK_ID_MAX);
  vtkGetMacro(SegmentedTriangleCount, vtkIdType);
  ///@}

  vtkTypeBool ProcessRequest(vtkInformation* request,
    vtkInformationVector** inputs,
    vtkInformationVector* outputs) override;

protected:
  vtkTHAPhantom();
  ~vtkTHAPhantom() override = default;

  int FillOutputPortInformation(int port, vtkInformation* info) override;
  int RequestInformation(vtkInformationVector* outputs);
  /// volumeAsked false: only the surface's port asked for data (the volume is left empty).
  int RequestData(vtkInformationVector* outputs, bool volumeAsked);
  void WriteVolume(const ibc::phantom::PhantomModel& model, vtkInformation* imageInfo, bool asked);
  void WriteSurface(const ibc::phantom::PhantomModel& model, vtkInformation* surfaceInfo);
  ibc::phantom::Surface SegmentedExport(const ibc::phantom::PhantomModel& model) const;

  int Side = RIGHT;
  double VarusValgusTilt = 0.0;
  int ContactPattern = MIXED;
  double ContactLayerThickness = 5.0;
  double MembraneThickness = -1.0;
  double TruthDistance = 2.5;
  double TruthDepthTolerance = 1.0;
  double ResectionLevel = 130.0;
  double TipZoneLength = 10.0;
  double CorticalHU = 1400.0;
  double CancellousHU = 300.0;
  double CancellousTexture = 50.0;
  double FibrousTissueHU = 30.0;
  double MetalHU = 6000.0;
  int OtherMetal = NO_OTHER_METAL;
  double HeadHU = 12000.0;
  double Spacing[3] = { 0.7, 0.7, 1.0 };
  double Margin = 20.0;
  int Supersampling = 2;
  double BlurSigma = 0.4;
  double BloomingWidth = 1.0;
  double BeamHardening = 100.0;
  double StreakDepth = -1.0;
  double NoiseSigma = 20.0;
  bool Clip = true;
  double ClipMaximum = 3071.0;
  int Seed = 1;
  double ChordTolerance = 0.02;
  int OutputScalarType;
  bool GenerateTissueLabels = true;
  bool DistributeSurface = false;
  int SurfaceKind = CAD_EXPORT;
  double SegmentationVoxelSize = 0.5;
  vtkIdType SegmentedTriangleCount = 12000;
  vtkSmartPointer<vtkImageData> CachedVolume; // the last volume made, and when (see WriteVolume)
  vtkMTimeType CachedVolumeTime = 0;

private:
  vtkTHAPhantom(const vtkTHAPhantom&) = delete;
  void operator=(const vtkTHAPhantom&) = delete;
};

#endif
