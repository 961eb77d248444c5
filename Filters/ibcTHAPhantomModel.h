// SPDX-License-Identifier: BSD-3-Clause
// The THA phantom: a synthetic post-operative CT of a proximal femur with a femoral stem, and
// the stem's surface as a CAD-like STL, with ground truth. Plain C++, no pipeline code: the
// VTK source vtkTHAPhantom only copies these results into VTK data objects.
//
// Frames (all lengths in millimetres):
// - stem frame (m, a, s): m medial, a anterior, s along the stem axis from the tip (s = 0) to
//   the shoulder. The stem tip is the lowest point of the stem surface.
// - femur frame (m, a, z): the stem frame turned about the anterior axis through the pivot
//   (0, 0, PivotLevel) by the varus/valgus tilt.
// - world frame: LPS patient coordinates (x to the patient's left, y posterior, z superior),
//   what ITK, DICOM, NRRD and NIfTI use. A right femur has its medial side towards +x.
#ifndef ibcTHAPhantomModel_h
#define ibcTHAPhantomModel_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcVector.h"

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace ibc
{
namespace phantom
{

/// Tissue labels of the phantom's label map (array `TissueLabel` of the volume).
enum class Tissue : std::uint8_t
{
  Air = 0,
  Fat = 1,
  Muscle = 2,
  Marrow = 3,
  FibrousTissue = 4, // fibrous membrane between a loose stem and bone; soft tissue
  Cancellous = 5,
  Cortical = 6,
  Metal = 7
};

/// The classifier's scale: 1 soft tissue (anything that is not bone), 2 cancellous, 3 cortical.
IMPLANTBONECONTACTFILTERS_EXPORT int tissueClassOf(Tissue tissue);

enum class Side
{
  Right = 0,
  Left = 1
};

/// What the stem touches, zone by zone.
enum class ContactPattern
{
  Mixed = 0,     ///< the designed default: differs zone by zone (see README)
  PressFit = 1,  ///< cortical bone all around the stem
  Loosened = 2,  ///< a fibrous membrane all around the stem
  Cancellous = 3 ///< cancellous bone all around the stem
};

/// Metal in the field besides the stem (it is not part of the stem surface).
enum class OtherMetal
{
  None = 0,
  Head = 1,      ///< a 28 mm cobalt-chromium femoral head on the trunnion
  HeadAndCup = 2 ///< and a 52 mm titanium acetabular shell, polyethylene liner, pelvic bone
};

struct IMPLANTBONECONTACTFILTERS_EXPORT Parameters
{
  // Anatomy and placement.
  Side side = Side::Right;
  double varusValgusDegrees = 0.0; ///< positive: varus (tip towards lateral)
  ContactPattern pattern = ContactPattern::Mixed;
  double contactLayerThickness = 5.0; ///< mm of patterned tissue around the stem
  /// mm of fibrous membrane where the pattern puts one (negative: contactLayerThickness).
  /// Bone lies behind a membrane thinner than the contact layer: cortical where the anatomy
  /// has cortex, cancellous elsewhere.
  double membraneThickness = -1.0;
  double truthDistance = 2.5; ///< mm outside the surface where TrueTissueClass is read
  /// TrueTissueClassIsRobust: the class must hold from truthDistance - truthDepthTolerance to
  /// truthDistance + truthDepthTolerance (and 0.75 mm aside).
  double truthDepthTolerance = 1.0;
  double resectionLevel = 130.0; ///< mm above the tip: proximal limit of the Gruen zones
  double tipZoneLength = 10.0;   ///< mm above the tip: zones 4 and 11

  // Tissue values (HU).
  double corticalHU = 1400.0;
  double cancellousHU = 300.0;
  double cancellousTextureHU = 50.0; ///< amplitude of the trabecular texture
  double fibrousTissueHU = 30.0;
  double metalHU = 6000.0; ///< titanium alloy on an extended HU scale
  OtherMetal otherMetal = OtherMetal::None;
  double headHU = 12000.0; ///< the femoral head (cobalt-chromium); the cup takes metalHU

  // Image geometry.
  std::array<double, 3> spacing{ { 0.7, 0.7, 1.0 } };
  double margin = 20.0; ///< mm around the stem's bounding box

  // CT effects.
  int supersampling = 2;          ///< partial volume: k x k x k samples per voxel (1 = off)
  double blurSigma = 0.4;         ///< Gaussian point-spread function, mm (0 = off)
  double bloomingWidth = 1.0;     ///< mm; metal edge spread by an extra Gaussian of sigma w/2
  double beamHardeningHU = 100.0; ///< depth of the dark halo next to metal
  double streakHU = -1.0;         ///< depth of the medial-lateral streaks (negative: 0.6 x halo)
  double noiseSigma = 20.0;       ///< HU, Gaussian, deterministic for a seed
  bool clip = true;               ///< clip at clipMaximumHU as a 12-bit scanner does
  double clipMaximumHU = 3071.0;
  unsigned int seed = 1;

  // Surface tessellation.
  double chordTolerance = 0.02; ///< mm; CAD export tolerance of the STL
};

/// Closed outline of the stem's core in its coronal plane, made of straight segments and
/// circular fillets, traversed counter-clockwise (m to the right, s up). Normals are continuous
/// along it, so the nearest point and its normal give a signed distance without ambiguity.
class IMPLANTBONECONTACTFILTERS_EXPORT StemOutline
{
public:
  struct Primitive
  {
    bool isArc = false;
    Vec2 start;
    Vec2 end;
    Vec2 center;             // arcs only
    double radius = 0.0;     // arcs only
    double startAngle = 0.0; // arcs only, of start about center
    double sweep = 0.0;      // arcs only; > 0 counter-clockwise (convex corner)
  };
  struct Nearest
  {
    double signedDistance = 0.0; ///< negative inside
    Vec2 point;
    Vec2 outwardNormal;
  };
  struct Sample
  {
    Vec2 point;
    Vec2 outwardNormal;
  };

  /// Rounds each corner of a counter-clockwise polygon with the given fillet radius.
  static StemOutline fromRoundedPolygon(const std::vector<Vec2>& corners,
    const std::vector<double>& filletRadii);

  Nearest nearest(Vec2 query) const;

  /// Points along the outline for a tessellation: segment ends, and arcs subdivided so that the
  /// chord error of the outline offset outward by up to maxOffset stays under chordTolerance.
  std::vector<Sample> sample(double chordTolerance, double maxOffset) const;

  const std::vector<Primitive>& primitives() const { return this->Primitives; }
  double area() const;

private:
  std::vector<Primitive> Primitives;
};

/// The stem: every point within HalfThickness of a planar core region (the outline, in the
/// plane a = 0). A flat-wedge stem with rounded edges, tip and trunnion; the signed distance is
/// exact everywhere.
class IMPLANTBONECONTACTFILTERS_EXPORT StemGeometry
{
public:
  struct Query
  {
    double signedDistance = 0.0; ///< negative inside the metal
    Vec3 outwardNormal;          ///< of the nearest surface point
    Vec3 footPoint;              ///< nearest surface point
  };

  StemGeometry();
  Query evaluate(Vec3 stemPoint) const;
  const StemOutline& outline() const { return this->Outline; }
  double halfThickness() const { return this->HalfThickness; }
  /// Highest stem-frame level of the surface (the trunnion end or the shoulder).
  double topLevel() const;

private:
  StemOutline Outline;
  double HalfThickness = 5.0;
};

/// A triangle surface in plain arrays.
struct Surface
{
  std::vector<Vec3> points;
  std::vector<std::array<std::int64_t, 3>> triangles;
  std::vector<Vec3> trueNormals;
  std::vector<std::uint8_t> trueTissueClass;
  /// 1 when the class is the same 1.5 to 3.5 mm out and 0.75 mm aside: not on a boundary.
  std::vector<std::uint8_t> trueTissueClassIsRobust;
  std::vector<std::uint8_t> trueGruenZone;
  /// mm along the true normal from the surface to the first bone (cancellous or cortical);
  /// MaximumInterfaceSearch where no bone lies within that distance.
  std::vector<float> trueInterfaceWidth;
};

/// How far out the phantom looks for bone when it measures the true interface width.
constexpr double MaximumInterfaceSearch = 10.0;

/// Gruen zone of a stem surface point given in the stem frame, with its outward normal.
/// 0 above the resection level; 4 and 11 below tipZoneLength; the rest split in thirds between
/// the tip and the resection level. AP set (1-7) when the normal is more medial-lateral than
/// anterior-posterior.
IMPLANTBONECONTACTFILTERS_EXPORT int gruenZone(double level,
  Vec3 outwardNormal,
  double resectionLevel,
  double tipZoneLength);

class IMPLANTBONECONTACTFILTERS_EXPORT PhantomModel
{
public:
  explicit PhantomModel(const Parameters& parameters);

  const Parameters& parameters() const { return this->Params; }
  const StemGeometry& stem() const { return this->Stem; }

  // Frames.
  Vec3 worldToStem(Vec3 world) const;
  Vec3 stemToWorld(Vec3 stemPoint) const;
  Vec3 stemDirectionToWorld(Vec3 stemDirection) const;
  Vec3 worldToFemur(Vec3 world) const;
  Vec3 stemToFemur(Vec3 stemPoint) const;

  /// Ground-truth tissue at a world point (metal inside the stem).
  Tissue tissueAt(Vec3 world) const;
  /// HU of a tissue at a world point, before any CT effect (cancellous bone has a texture).
  double tissueHU(Tissue tissue, Vec3 world) const;

  // Volume.
  void wholeExtent(int extent[6]) const;
  void origin(double origin[3]) const;
  /// Fills hu (and labels, if not null) for the sub-extent, x fastest. Only this extent plus
  /// the blur's margin is computed. progress(fraction) is called from the calling thread.
  void generateVolume(const int extent[6],
    float* hu,
    std::uint8_t* labels,
    const std::function<void(double)>& progress = nullptr) const;

  /// The stem surface in world coordinates as a CAD export would tessellate it, with ground
  /// truth at every vertex.
  Surface generateSurface() const;

  /// The stem as a binary segmentation labels it: cubic voxels of `voxelSize` mm over the
  /// stem's bounds and two voxels more, 1 where the voxel's centre lies in the metal.
  struct StemMask
  {
    double origin[3] = { 0, 0, 0 };
    double spacing = 1.0;
    int dimensions[3] = { 0, 0, 0 };
    std::vector<std::uint8_t> inside; ///< x fastest
  };
  StemMask stemMask(double voxelSize) const;

  /// Ground truth for any surface of the stem (a segmented export, say): normals and Gruen
  /// zones of the nearest point of the exact stem, and the tissue classes and interface width
  /// seen from there. Made outward (by the signed volume) if it is not.
  Surface annotatedSurface(std::vector<Vec3> points,
    std::vector<std::array<std::int64_t, 3>> triangles) const;

  /// Stem frame in world coordinates (for tests and for users who want the truth).
  Vec3 tipPoint() const;
  Vec3 axisDirection() const;
  Vec3 medialDirection() const;
  Vec3 anteriorDirection() const;

private:
  /// Signed distances (negative inside) to the head and to the cup's shell; +inf when absent.
  struct OtherMetalQuery
  {
    double head = std::numeric_limits<double>::infinity();
    double cup = std::numeric_limits<double>::infinity();
    Vec3 fromHeadCenter;   ///< stem frame
    double poleHeight = 0; ///< along the cup's pole, from the head centre
  };
  OtherMetalQuery queryOtherMetal(Vec3 stemPoint) const;
  /// The liner and the pelvic bone around the cup (Tissue::Air: neither).
  Tissue tissueAroundOtherMetal(const OtherMetalQuery& query) const;
  /// Stage 3 of generateVolume at one voxel: the metal spread by the PSF, the voxel and the
  /// blooming over the partial-volume tissue value, beam hardening, noise, clipping; the
  /// voxel's true tissue into *label if not null.
  float voxelWithArtefacts(const std::int64_t voxel[3],
    float tissueValue,
    std::uint8_t* label) const;
  Tissue tissueIgnoringMetal(Vec3 world, const StemGeometry::Query* knownStem) const;
  Tissue anatomyAt(Vec3 femurPoint) const;
  bool insideFemur(Vec3 femurPoint) const;
  Tissue contactTissue(const StemGeometry::Query& stemQuery) const;
  double interfaceWidthAt(Vec3 surfacePoint, Vec3 outwardNormal) const;
  /// How far inward (mm) the stem's curvature moves the half-way level of its blurred edge at
  /// a point near it (see voxelWithArtefacts).
  double stemCurvatureShift(Vec3 world, const StemGeometry::Query& query, double bloomSigma) const;
  /// Fills the tissue classes, their robustness and the interface width from each vertex's
  /// `origins` point (on the exact surface) along its true normal.
  void addTissueTruth(Surface& surface, const std::vector<Vec3>& origins) const;
  void stemBounds(double bounds[6]) const;

  Parameters Params;
  StemGeometry Stem;
  double TiltCos = 1.0;
  double TiltSin = 0.0;
  double SideSign = 1.0;
  Vec3 FemurOrigin; // world position of the femur frame's origin
  double Origin[3] = { 0, 0, 0 };
  int Dimensions[3] = { 1, 1, 1 };
};

} // namespace phantom
} // namespace ibc

#endif
