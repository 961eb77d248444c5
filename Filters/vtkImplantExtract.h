// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkImplantExtract
 * @brief   the metal implant's surface from a post-operative CT, without the usual inflation
 *
 * Input: a CT (vtkImageData, HU). Output: a closed, outward-oriented triangle surface of the
 * metal with point normals, point array EdgeShift (mm each vertex moved from the threshold
 * surface along its normal; negative = inward) and field data MetalThreshold, MetalPlateauHU,
 * Clipped, MetalHUUsed, EdgeSigma, ThresholdSurfaceInflation (mm, the mean correction), Volume
 * (mm3), ThresholdSurfaceVolume (mm3), ComponentsFound.
 *
 * Steps: threshold (automatic from the histogram's high tail, or given); the largest connected
 * component (or all above a size), cavities filled; the threshold surface (flying edges with
 * sub-voxel interpolation, then non-shrinking windowed-sinc smoothing); each vertex moved along
 * its normal to the metal edge read from its own CT profile (see ibcImplantExtract.h), the
 * shifts smoothed over the mesh (which does not shrink the surface).
 *
 * Parallel: the metal's bounding box (plus a margin) is gathered on rank 0, which builds the
 * surface; no rank holds more of the volume than that box. The output is on rank 0.
 */
#ifndef vtkImplantExtract_h
#define vtkImplantExtract_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcCollective.h"                   // for Collective
#include "ibcImplantExtract.h"               // for MetalBox, VolumeGeometry, EdgeCorrection
#include "vtkPolyDataAlgorithm.h"

#include <array>
#include <cstdint>
#include <vector>

class vtkDataArray;
class vtkImageData;
class vtkMultiProcessController;

class IMPLANTBONECONTACTFILTERS_EXPORT vtkImplantExtract : public vtkPolyDataAlgorithm
{
public:
  static vtkImplantExtract* New();
  vtkTypeMacro(vtkImplantExtract, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// Automatic threshold (half-way between the metal plateau and MetalMinimumHU) or Threshold.
  vtkSetMacro(AutomaticThreshold, bool);
  vtkGetMacro(AutomaticThreshold, bool);
  vtkBooleanMacro(AutomaticThreshold, bool);
  vtkSetMacro(Threshold, double);
  vtkGetMacro(Threshold, double);
  ///@}

  ///@{
  /// The value above which only metal lies (no bone reaches it), HU.
  vtkSetMacro(MetalMinimumHU, double);
  vtkGetMacro(MetalMinimumHU, double);
  ///@}

  ///@{
  /// The metal's true HU, needed to place the edge when the CT clips (0 = automatic: the
  /// visible plateau, or when clipped titanium alloy, 6000 HU on an extended scale).
  vtkSetClampMacro(MetalHU, double, 0.0, 1e6);
  vtkGetMacro(MetalHU, double);
  ///@}

  ///@{
  /// Keep only the largest component (default) or every component of at least
  /// MinimumComponentVolume mm3.
  vtkSetMacro(LargestComponentOnly, bool);
  vtkGetMacro(LargestComponentOnly, bool);
  vtkBooleanMacro(LargestComponentOnly, bool);
  vtkSetClampMacro(MinimumComponentVolume, double, 0.0, 1e9);
  vtkGetMacro(MinimumComponentVolume, double);
  ///@}

  ///@{
  /// Move the threshold surface to the metal edge (on by default; off gives the plain
  /// threshold surface, for comparison).
  vtkSetMacro(PartialVolumeCorrection, bool);
  vtkGetMacro(PartialVolumeCorrection, bool);
  vtkBooleanMacro(PartialVolumeCorrection, bool);
  ///@}

  ///@{
  /// Windowed-sinc smoothing iterations of the threshold surface (0 = none).
  vtkSetClampMacro(SmoothingIterations, int, 0, 200);
  vtkGetMacro(SmoothingIterations, int);
  ///@}

  /// Extracts the metal surface from `volume` (this rank's piece; `volumeInfo` holds the whole
  /// extent and geometry, `scalars` the HU, null on a rank without voxels) into `output` on rank
  /// 0. Every rank must call it. For filters that take a CT and need the implant's surface.
  bool ExtractSurface(vtkImageData* volume,
    vtkInformation* volumeInfo,
    vtkDataArray* scalars,
    vtkPolyData* output);

  ///@{
  /// The controller (the global one by default).
  void SetController(vtkMultiProcessController* controller);
  vtkGetObjectMacro(Controller, vtkMultiProcessController);
  ///@}

protected:
  vtkImplantExtract();
  ~vtkImplantExtract() override;

  int FillInputPortInformation(int port, vtkInformation* info) override;
  int RequestUpdateExtent(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;

  bool AutomaticThreshold = true;
  double Threshold = 2500.0;
  double MetalMinimumHU = 2000.0;
  double MetalHU = 0.0;
  bool LargestComponentOnly = true;
  double MinimumComponentVolume = 100.0;
  bool PartialVolumeCorrection = true;
  int SmoothingIterations = 20;
  vtkMultiProcessController* Controller = nullptr;

private:
  /// This rank's block of voxels and the whole volume's geometry; false (with an error) for a
  /// CT that cannot be read: empty, without the array, not 3D, or holding NaN.
  bool ReadVolume(vtkImageData* volume,
    vtkInformation* volumeInfo,
    vtkDataArray* scalars,
    const ibc::Collective& comm,
    ibc::probe::VolumeBlock& block,
    ibc::extract::VolumeGeometry& geometry);
  /// The threshold surface of the metal component(s) in the box, smoothed, in world space.
  bool ThresholdSurface(const ibc::extract::MetalBox& box,
    double threshold,
    double plateauHU,
    const ibc::extract::VolumeGeometry& geometry,
    std::vector<ibc::Vec3>& points,
    std::vector<std::array<std::int64_t, 3>>& triangles,
    int& componentsFound);
  /// Warnings on the edge correction: vertices without an edge, the metal value assumed.
  void ReportCorrection(const ibc::extract::EdgeCorrection& correction,
    const ibc::extract::MetalLevels& levels,
    std::size_t vertexCount);

  vtkImplantExtract(const vtkImplantExtract&) = delete;
  void operator=(const vtkImplantExtract&) = delete;
};

#endif
