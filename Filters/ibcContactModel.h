// SPDX-License-Identifier: BSD-3-Clause
// Reading the tissue that touches an implant through the metal's blooming: a physical model of
// the metal's contribution to the CT near a known implant surface, fitted to the data and
// subtracted, and the reading of the corrected profile along each vertex's outward normal.
//
// The model. Along the outward normal of a point of the implant surface, at distance d (mm,
// negative inside the metal), the CT reads
//     I(d) = (1 - w(d)) T(d) + w(d) M,   w(d) = Phi(-d / sigma(n)),
// clipped at the scanner's maximum: T is the tissue blurred by the scanner's point spread, M
// the metal's true value (often above the 3071 HU clip) and w the implant's indicator blurred by
// the metal's edge spread (point spread, voxel size and blooming together). The edge spread
// depends on the normal's direction in the voxel grid: sigma(n)^2 = sigmaInPlane^2 (1 - c^2) +
// sigmaThroughPlane^2 c^2, c the normal's component along the slice axis, so 2 mm slices
// are allowed for. The fit needs no tissue model beyond "locally constant": M and the spreads
// are the same for the whole stem, the tissue level is one unknown per profile, and a robust
// loss lets the profiles whose tissue changes close to the metal count little. What the model
// leaves out (a dark beam-hardening halo, a spread that is not quite Gaussian) is then measured
// on the same profiles: the median departure of the corrected tissue from each profile's level,
// by distance in edge spreads, subtracted in the reading.
//
// The reading. Subtracting the metal term and dividing by (1 - w) gives the corrected tissue
// profile T(d) wherever the model's own uncertainty there (from the fit's precision) is small.
// From the first such distance outward the first bone (a value above a bone threshold) is
// searched; the interface width is where the corrected profile crosses half-way between the
// layer in front of the bone and the bone (a blurred step's half-way point is the step for a
// symmetric point spread). The value reported is the tissue at the contact distance (1.25 mm
// by default, "the tissue 1.0-1.5 mm outside the implant"): the layer's own level when the
// non-bone layer reaches beyond it, the bone's level otherwise.
#ifndef ibcContactModel_h
#define ibcContactModel_h

#include "ImplantBoneContactFiltersModule.h" // for export macro

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace ibc
{
namespace contact
{

struct SurfaceCurvature;
struct EdgeShift;

/// The metal's contribution near the implant surface.
struct IMPLANTBONECONTACTFILTERS_EXPORT MetalModel
{
  bool valid = false;
  double metalHU = 0.0;           ///< the metal's true value (may lie above the clip)
  double sigmaInPlane = 1.0;      ///< edge spread (mm) for normals in the slice plane
  double sigmaThroughPlane = 1.0; ///< edge spread (mm) for normals along the slice axis
  bool throughPlaneFitted = false; ///< false: from the in-plane spread and the voxel size
  /// The through-plane spread a curved edge's shift uses (see SurfaceCurvature): the fitted one,
  /// at most the in-plane one widened by the slice's box.
  double curvatureSigmaThroughPlane = 1.0;
  double clipHU = std::numeric_limits<double>::infinity(); ///< the scanner's maximum, if any
  double residualHU = 0.0;        ///< robust spread of the fit's residual (HU)
  double relativeSigmaError = 0.0; ///< precision of the fitted spreads (relative)
  double relativeMetalError = 0.0; ///< precision of the fitted metal value (relative)
  std::int64_t profilesUsed = 0;
  /// What the model leaves out, measured on the fit's own profiles: the median of the corrected
  /// tissue's departure from each profile's tissue level (HU), by distance in edge spreads, bin
  /// b covering [b, b + 1) x residualBinWidth. A dark beam-hardening halo next to the metal, or
  /// a point spread that is not quite Gaussian, shows here; the fit alone would bend the metal
  /// value to absorb it and leave the tissue next to the surface off by a few hundred HU.
  std::vector<double> tissueResidual;
  static constexpr double residualBinWidth = 0.25;

  /// Edge spread (mm) for a normal whose component along the slice axis is sliceComponent.
  double edgeSigma(double sliceComponent) const;
  /// The curvature's shift of the metal's edge at a vertex of that curvature.
  EdgeShift edgeShift(const SurfaceCurvature& curvature) const;
  /// Share w of the metal at distance d (mm) outside the surface.
  double metalShare(double distance, double sliceComponent) const;
  /// The tissue residual (HU) at `spreads` edge spreads outside the surface, interpolated
  /// between bin centres; 0 where it was not measured.
  double tissueResidualAt(double spreads) const;
};

/// The shift of a curved metal edge's blurred indicator (mm, positive inward) as a function of
/// the distance d from the surface: s(d) = sum_i c_i / (1 + k_i d / 2) over the principal
/// directions, c_i = variance_i k_i / 2 (see SurfaceCurvature).
struct IMPLANTBONECONTACTFILTERS_EXPORT EdgeShift
{
  double coefficient[2] = { 0.0, 0.0 }; ///< c_i (mm)
  double curvature[2] = { 0.0, 0.0 };   ///< k_i (1/mm)
  double at(double distance) const
  {
    // Inside the metal a convex edge's parallel surface curves more; at most twice as much, so
    // that a noisy curvature cannot blow up. Inline: the fit evaluates it at every voxel it reads.
    const double halfWay0 = std::max(0.5 * this->curvature[0] * distance, -0.5);
    const double halfWay1 = std::max(0.5 * this->curvature[1] * distance, -0.5);
    return this->coefficient[0] / (1.0 + halfWay0) + this->coefficient[1] / (1.0 + halfWay1);
  }
};

/// The implant surface's curvature at a vertex (1/mm, positive where it is convex), as far as
/// the metal's blurred indicator depends on it. Blurring a curved edge moves its half-way level
/// inward by half the curvature times the blur's variance across the surface. On a stem of
/// 4-6 mm radius with a 1.3 mm blooming that is 0.15-0.2 mm, and a flat-edge model then takes
/// 200-400 HU too much metal out of the tissue 1 mm from a rounded face.
///
/// At a distance d from the surface the blur sees the parallel surface half-way there, whose
/// curvature is k / (1 + k d / 2): with it the shifted edge matches a blurred cylinder's and
/// ball's exact value within 70 HU of a 6000 HU metal for spreads up to half the radius, where
/// the shift taken at the surface alone (first order) is off by up to 180 HU (Testing/Cxx
/// TestContactModel, Curvature.*). For a Gaussian blur with in-plane and through-plane spreads,
/// the variance along principal direction i is sigmaInPlane^2 + (sigmaThroughPlane^2 -
/// sigmaInPlane^2) s_i^2, s_i the slice axis's component along that direction.
struct IMPLANTBONECONTACTFILTERS_EXPORT SurfaceCurvature
{
  double principal[2] = { 0.0, 0.0 };  ///< principal curvatures k_i
  double sliceShare[2] = { 0.0, 0.0 }; ///< s_i^2: the slice axis's squared component along each
  /// k_1 + k_2.
  double sum() const { return this->principal[0] + this->principal[1]; }
  /// The normal curvature along the slice axis's tangent projection, times its squared length.
  double alongSlice() const
  {
    return this->principal[0] * this->sliceShare[0] + this->principal[1] * this->sliceShare[1];
  }
  /// The edge's shift for the given spreads, at the surface at most half the larger spread
  /// either way.
  EdgeShift edgeShift(double sigmaInPlane, double sigmaThroughPlane) const;
};

/// How a profile was sampled from the voxels, so that the model can be sampled the same way:
/// linear interpolation between voxels makes a curved tail read higher between them, and the
/// fit would otherwise take that for a wider blooming. It also carries the surface's curvature
/// at the profile's vertex (see SurfaceCurvature).
struct IMPLANTBONECONTACTFILTERS_EXPORT ProfileSampling
{
  enum Kind : int
  {
    Point = 0,   ///< the model at the sample itself (cubic interpolation, or unknown)
    Nearest = 1, ///< the nearest voxel's value
    Linear = 2   ///< trilinear interpolation of the 8 surrounding voxels
  };
  int kind = Point;
  double base[3] = { 0, 0, 0 };       ///< continuous voxel index of the surface point
  double step[3] = { 0, 0, 0 };       ///< index change per mm along the normal
  double mmPerIndex[3] = { 0, 0, 0 }; ///< mm along the normal per index step along each axis
  SurfaceCurvature curvature;

  /// The metal share the sample at `distance` reads: the voxels' shares, interpolated, for an
  /// edge spread `sigma` and the curvature's `shift` (see SurfaceCurvature).
  double share(double distance, double sigma, const EdgeShift& shift) const;
  /// share() at each of `count` increasing distances, and, if `innermost` is not null, the
  /// largest share among the voxels each sample reads (the one nearest the metal: a clipped
  /// voxel there makes the sample read low). A voxel that consecutive samples read is evaluated
  /// once.
  void sharesAlong(const double* distances,
    std::size_t count,
    double sigma,
    const EdgeShift& shift,
    double* shares,
    double* innermost = nullptr) const;
  /// How much nearer the metal (mm along the normal) a voxel the sample reads can lie.
  double reach() const;
};

/// Profiles the fit reads, all at the same distances (mm along the outward normal).
struct IMPLANTBONECONTACTFILTERS_EXPORT FitProfiles
{
  std::vector<double> distances;
  std::vector<double> values;          ///< count() x distances.size(), NaN where unknown
  std::vector<double> sliceComponents; ///< per profile, |normal . slice axis| in [0, 1]
  std::vector<ProfileSampling> samplings; ///< per profile, or empty (the point model)
  std::size_t count() const { return this->sliceComponents.size(); }
};

struct IMPLANTBONECONTACTFILTERS_EXPORT FitOptions
{
  double inPlaneSpacing = 1.0; ///< mm, for the through-plane spread when it cannot be fitted
  double sliceSpacing = 1.0;   ///< mm
  double fitStart = -3.0;      ///< mm: the part of each profile the fit reads
  double fitEnd = 3.0;
  int sampleStride = 2;        ///< the fit reads every this many samples (0.2 mm apart)
  double clipMargin = 300.0;   ///< HU below the clip that interpolation may still have mixed
  double robustScale = 150.0;  ///< HU: residuals beyond this count less and less
  double minimumSigma = 0.1;
  double maximumSigma = 5.0;
  double maximumMetalHU = 50000.0;
  std::int64_t minimumThroughPlaneProfiles = 30;
};

/// The clip level of the profiles: their maximum, when at least 2 % of the samples inside the
/// metal sit at it (a scanner's clip makes such a spike), else infinity.
IMPLANTBONECONTACTFILTERS_EXPORT double detectClip(const FitProfiles& profiles);

/// Fits the metal model to the profiles (robust least squares over a coarse-to-fine grid of the
/// metal value and the edge spreads, each profile with its own tissue level). Invalid when there
/// is no metal in the profiles (nothing clearly above any tissue next to the surface).
IMPLANTBONECONTACTFILTERS_EXPORT MetalModel fitMetalModel(const FitProfiles& profiles,
  const FitOptions& options);

/// How a vertex's profile is read once the metal is known.
struct IMPLANTBONECONTACTFILTERS_EXPORT ContactRule
{
  double contactDistance = 1.25;       ///< mm: the tissue here is "in contact"
  double bandHalfWidth = 0.25;         ///< mm each side of the contact distance
  double boneThresholdHU = 150.0;      ///< corrected values above this are bone
  double maximumUncertaintyHU = 80.0;  ///< the metal term is trusted where it is this precise
  double tissueSigma = 0.5;            ///< mm: spread of tissue edges (scanner point spread)
  double maximumInterfaceSearch = 6.0; ///< mm; no bone within it: width is this (a lower bound)
};

enum class ReadingStatus : std::uint8_t
{
  Read = 0,            ///< the contact band was read where the model is trusted
  ReadFartherOut = 1,  ///< the metal term is uncertain at the contact band: read farther out
  MetalEverywhere = 2, ///< no sample of the profile is free of the metal: value from its end
  OutsideVolume = 3    ///< the profile leaves the volume: NaN
};

struct IMPLANTBONECONTACTFILTERS_EXPORT ContactReading
{
  double value = std::numeric_limits<double>::quiet_NaN(); ///< tissue HU in contact
  double distance = std::numeric_limits<double>::quiet_NaN(); ///< mm out where it was read
  double interfaceWidth = std::numeric_limits<double>::quiet_NaN(); ///< mm of non-bone layer
  bool interfaceIsLowerBound = false; ///< no bone found within maximumInterfaceSearch
  double trustedFrom = std::numeric_limits<double>::quiet_NaN(); ///< mm: first trusted sample
  double confidence = 0.0;            ///< 0-1
  ReadingStatus status = ReadingStatus::OutsideVolume;
};

/// Reads one vertex's profile (values at increasing distances, NaN outside the volume), sampled
/// as `sampling` says (null: the point model). `corrected` (distances.size() entries) receives
/// the metal-corrected profile, NaN where the metal term is not trusted; it may be null.
IMPLANTBONECONTACTFILTERS_EXPORT ContactReading readContact(const MetalModel& model,
  double sliceComponent,
  const std::vector<double>& distances,
  const double* values,
  const ContactRule& rule,
  const ProfileSampling* sampling = nullptr,
  double* corrected = nullptr);

/// Whether a point takes part in the fit: a hash of its exact coordinates below rate, so every
/// rank, whatever piece of the surface it holds, picks the same points.
IMPLANTBONECONTACTFILTERS_EXPORT bool selectedForFit(const double point[3], double rate);

} // namespace contact
} // namespace ibc

#endif
