// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkNormalOffsetProbe
 * @brief   samples a volume along the outward normals of a surface
 *
 * Input port 0 is the surface (vtkPolyData), port 1 the volume (vtkImageData, any scalar
 * type; its direction matrix is honoured). Every vertex gets the volume's value a distance
 * outside the surface along its outward normal (SINGLE_OFFSET), or a statistic of a profile of
 * samples between ProfileStart and ProfileEnd (PROFILE_MAXIMUM, PROFILE_MEAN, PROFILE_MEDIAN),
 * or the artefact-aware AUTOMATIC value: the median of a short band just beyond where the
 * metal's fall-off ends along that vertex's profile.
 *
 * Output: the input surface with point arrays: the sampled value (named like the sampled
 * array), vtkValidPointMask (1 sampled, 0 not; unsampled values are NaN), Normals (the
 * outward normals used), optionally <name>Profile (all profile samples), and SampleDistance
 * (mm along the normal where the value was taken).
 *
 * Normals: computed when the input has none or RecomputeNormals is on: triangle orientation
 * is made consistent across shared edges, then the whole surface is oriented so that its
 * signed volume about its centroid is positive (outward for a closed surface; away from the
 * centroid for an open one); vertex normals are angle-weighted.
 *
 * Under MPI the volume stays distributed: each rank requests its piece plus the ghost voxels
 * the interpolation needs, samples what it holds, and asks the ranks holding the other
 * samples for them. The surface keeps its own distribution; normals of points shared between
 * surface pieces are summed across ranks, so the result equals the serial one.
 *
 * The algorithms are in ibcNormalProbe.h.
 */
#ifndef vtkNormalOffsetProbe_h
#define vtkNormalOffsetProbe_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcCollective.h"                   // for Collective
#include "ibcContactModel.h"                 // for MetalModel
#include "ibcNormalProbe.h"                  // for VolumeBlock
#include "vtkPolyDataAlgorithm.h"

#include <array>
#include <cstdint>
#include <string> // for std::string
#include <vector>

class vtkMultiProcessController;

class IMPLANTBONECONTACTFILTERS_EXPORT vtkNormalOffsetProbe : public vtkPolyDataAlgorithm
{
public:
  static vtkNormalOffsetProbe* New();
  vtkTypeMacro(vtkNormalOffsetProbe, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum ModeType
  {
    SINGLE_OFFSET = 0,
    PROFILE_MAXIMUM = 1,
    PROFILE_MEAN = 2,
    PROFILE_MEDIAN = 3,
    AUTOMATIC = 4,
    METAL_CORRECTED = 5
  };
  enum InterpolationType
  {
    NEAREST = 0,
    LINEAR = 1,
    CUBIC = 2
  };

  /// The volume to sample (input port 1).
  void SetSourceConnection(vtkAlgorithmOutput* source);

  ///@{
  vtkSetClampMacro(Mode, int, SINGLE_OFFSET, METAL_CORRECTED);
  vtkGetMacro(Mode, int);
  vtkSetMacro(Offset, double);
  vtkGetMacro(Offset, double);
  vtkSetMacro(ProfileStart, double);
  vtkGetMacro(ProfileStart, double);
  vtkSetMacro(ProfileEnd, double);
  vtkGetMacro(ProfileEnd, double);
  vtkSetClampMacro(ProfileSamples, int, 1, 1000);
  vtkGetMacro(ProfileSamples, int);
  vtkSetClampMacro(Interpolation, int, NEAREST, CUBIC);
  vtkGetMacro(Interpolation, int);
  vtkSetMacro(RecomputeNormals, bool);
  vtkGetMacro(RecomputeNormals, bool);
  vtkBooleanMacro(RecomputeNormals, bool);
  vtkSetMacro(FlipNormals, bool);
  vtkGetMacro(FlipNormals, bool);
  vtkBooleanMacro(FlipNormals, bool);
  vtkSetMacro(StoreProfile, bool);
  vtkGetMacro(StoreProfile, bool);
  vtkBooleanMacro(StoreProfile, bool);
  ///@}

  ///@{
  /// Automatic mode: the fall-off has ended where the profile falls by less than
  /// SlopeThreshold (HU/mm) over 1 mm; the value is the median of BandWidth (mm) of profile
  /// starting Margin (mm) beyond that point.
  vtkSetClampMacro(SlopeThreshold, double, 0.0, 1e6);
  vtkGetMacro(SlopeThreshold, double);
  vtkSetClampMacro(BandWidth, double, 0.0, 100.0);
  vtkGetMacro(BandWidth, double);
  vtkSetClampMacro(Margin, double, 0.0, 100.0);
  vtkGetMacro(Margin, double);
  ///@}

  ///@{
  /// Metal-corrected mode: the tissue at ContactDistance (mm) outside the surface is reported;
  /// corrected values above BoneThreshold (HU) are bone, for InterfaceWidth.
  vtkSetClampMacro(ContactDistance, double, 0.0, 20.0);
  vtkGetMacro(ContactDistance, double);
  vtkSetMacro(BoneThreshold, double);
  vtkGetMacro(BoneThreshold, double);
  ///@}

  ///@{
  /// The controller for distributed runs; defaults to the global one.
  void SetController(vtkMultiProcessController* controller);
  vtkGetObjectMacro(Controller, vtkMultiProcessController);
  ///@}

protected:
  vtkNormalOffsetProbe();
  ~vtkNormalOffsetProbe() override;

  int FillInputPortInformation(int port, vtkInformation* info) override;
  int RequestInformation(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int RequestUpdateExtent(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  /// What is wrong with the sampling settings (a profile that ends before it starts), or "".
  std::string SettingsProblem() const;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;

  struct Readings; // the per-vertex outputs

  /// The outward unit normals: given (unless RecomputeNormals) or computed; false with an error
  /// when neither is possible.
  bool OutwardNormals(vtkPolyData* surface,
    const std::vector<ibc::Vec3>& points,
    const std::vector<std::array<std::int64_t, 3>>& triangles,
    bool anyTriangles,
    const ibc::Collective& comm,
    std::vector<ibc::Vec3>& normals);
  /// The sampling plan the properties describe (a warning when the profile is one point).
  ibc::probe::SamplingPlan MakeSamplingPlan();
  /// How the metal-corrected and the automatic modes read a profile, from the properties.
  ibc::contact::ContactRule MakeContactRule(const ibc::probe::SamplingPlan& plan) const;
  ibc::probe::AutomaticRule MakeAutomaticRule() const;
  /// Samples every vertex's profile in the mode chosen and reads it into `readings`, which go to
  /// the output with the field data of the metal-corrected mode.
  void ReadProfiles(const ibc::probe::VolumeBlock& block,
    bool hasVoxels,
    const std::vector<ibc::Vec3>& points,
    const std::vector<std::array<std::int64_t, 3>>& triangles,
    const std::vector<ibc::Vec3>& normals,
    const ibc::Collective& comm,
    Readings& readings,
    vtkPolyData* output);
  /// Warns (rank 0) about the points that could not be sampled, with the likely cause.
  void ReportUnsampled(vtkPolyData* surface,
    const ibc::probe::VolumeBlock& block,
    const Readings& readings,
    const ibc::Collective& comm);
  /// Writes the fitted metal model and the reading counts to the output's field data.
  void ReportMetalModel(vtkPolyData* output,
    const ibc::contact::MetalModel& metal,
    const std::vector<std::uint8_t>& readingStatus,
    const std::vector<ibc::Vec3>& points,
    const std::vector<std::array<std::int64_t, 3>>& triangles,
    const ibc::Collective& comm);

  int Mode = METAL_CORRECTED;
  double Offset = 1.0;
  double ProfileStart = 0.0;
  double ProfileEnd = 6.0;
  int ProfileSamples = 25;
  int Interpolation = LINEAR;
  bool RecomputeNormals = false;
  bool FlipNormals = false;
  bool StoreProfile = false;
  double SlopeThreshold = 50.0;
  double BandWidth = 1.0;
  double Margin = 0.25;
  double ContactDistance = 1.25;
  double BoneThreshold = 150.0;
  std::int64_t NonFiniteVoxels = 0; // in the sampled array, summed over ranks, last update
  vtkMultiProcessController* Controller = nullptr;

private:
  vtkNormalOffsetProbe(const vtkNormalOffsetProbe&) = delete;
  void operator=(const vtkNormalOffsetProbe&) = delete;
};

#endif
