// SPDX-License-Identifier: BSD-3-Clause
#include "ibcTHAPhantomModel.h"

#include <vtkSMPTools.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ibc
{
namespace phantom
{

namespace
{
constexpr double Pi = 3.14159265358979323846;
constexpr double InvSqrt2 = 0.70710678118654752440;

// Anatomy of the femur frame (mm). The femur is a tube of elliptic section whose metaphysis
// flares medially; the cortex thins from the diaphysis to the metaphysis.
constexpr double DiaphysisRadius = 14.0;
constexpr double MetaphysisFlareStart = 60.0;
constexpr double MetaphysisFlareEnd = 135.0;
constexpr double FlareMedialShift = 12.0;
constexpr double FlareExtraMLRadius = 20.0;
constexpr double FlareExtraAPRadius = 4.0;
constexpr double DiaphysisCorticalThickness = 6.0;
constexpr double MetaphysisCorticalThickness = 2.5;
constexpr double CorticalThinningStart = 40.0;
constexpr double CorticalThinningEnd = 110.0;
constexpr double MarrowToCancellousLevel = 80.0; // canal: marrow below, cancellous above
constexpr double GreaterTrochanterSlope = 0.84;  // tan(40 deg): bone top rises laterally
// Thigh: muscle inside a cylinder, a layer of subcutaneous fat, air outside.
constexpr double ThighCenterM = 25.0;
constexpr double ThighCenterA = 0.0;
constexpr double MuscleRadius = 44.0;
constexpr double SkinRadius = 52.0;
// Fixed tissue values (HU).
constexpr double AirHU = -1000.0;
constexpr double FatHU = -100.0;
constexpr double MuscleHU = 50.0;
constexpr double MarrowHU = 0.0;
// Other metal (stem frame): a 28 mm head on the neck axis, a 52 mm shell inclined 45 degrees
// (its pole along the neck axis) around a polyethylene liner, in a shell of pelvic bone.
constexpr double HeadRadius = 14.0;
constexpr double HeadNeckDistance = 46.0; // from the neck axis origin (0, 124)
constexpr double CupInnerRadius = 22.5;
constexpr double CupOuterRadius = 26.0;
constexpr double PelvicCortexThickness = 2.0;
constexpr double PelvicBoneThickness = 15.0;
// CT effects.
constexpr double HaloDecayLength = 1.0;    // mm
constexpr double StreakDecayLength = 25.0; // mm
// The metal's edge follows the stem's curvature within this distance (mm) of its surface; the
// curvature is the normal field's divergence over this step (mm).
constexpr double CurvatureReach = 8.0;
constexpr double CurvatureStep = 0.05;
constexpr double StreakShare = 0.6;        // streak depth relative to the halo depth
constexpr double TextureCellSize = 1.5;    // mm, trabecular texture
constexpr double MembraneTipLength = 14.0; // mm above the tip wrapped in a fibrous membrane
constexpr double RobustShift = 0.75;       // mm along the surface that must not change the truth
// Placement.
constexpr double PivotLevel = 70.0;    // stem-frame level about which the stem is tilted
constexpr double FemurOriginX = -95.0; // right femur; mirrored for the left
constexpr double FemurOriginY = 20.0;
constexpr double FemurOriginZ = -170.0;

double smoothstep(double value, double edge0, double edge1)
{
  const double t = std::clamp((value - edge0) / (edge1 - edge0), 0.0, 1.0);
  return t * t * (3.0 - 2.0 * t);
}

Vec2 lineIntersection(Vec2 p, Vec2 pDirection, Vec2 q, Vec2 qDirection)
{
  const double denominator = cross(pDirection, qDirection);
  const double t = cross(q - p, qDirection) / denominator;
  return p + t * pDirection;
}

// Stateless random numbers: a function of (seed, position), so that any sub-extent gives the
// same values as the whole volume, whichever thread or rank computes them.
std::uint64_t mixBits(std::uint64_t value)
{
  value += 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

std::uint64_t hashIndex(unsigned int seed, std::int64_t i, std::int64_t j, std::int64_t k)
{
  std::uint64_t h = mixBits(seed);
  h = mixBits(h ^ static_cast<std::uint64_t>(i));
  h = mixBits(h ^ static_cast<std::uint64_t>(j));
  h = mixBits(h ^ static_cast<std::uint64_t>(k));
  return h;
}

double unitInterval(std::uint64_t bits) // (0, 1]
{
  return (static_cast<double>(bits >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

double gaussianNoise(unsigned int seed, std::int64_t i, std::int64_t j, std::int64_t k)
{
  const std::uint64_t h = hashIndex(seed, i, j, k);
  const double u1 = unitInterval(h);
  const double u2 = unitInterval(mixBits(h));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * Pi * u2);
}

// Smooth value noise in [-1, 1] on a lattice of TextureCellSize (trilinear interpolation).
double valueNoise(unsigned int seed, Vec3 point)
{
  const double gx = point.x / TextureCellSize;
  const double gy = point.y / TextureCellSize;
  const double gz = point.z / TextureCellSize;
  const double fx = std::floor(gx);
  const double fy = std::floor(gy);
  const double fz = std::floor(gz);
  const auto ix = static_cast<std::int64_t>(fx);
  const auto iy = static_cast<std::int64_t>(fy);
  const auto iz = static_cast<std::int64_t>(fz);
  const double tx = gx - fx;
  const double ty = gy - fy;
  const double tz = gz - fz;
  double result = 0.0;
  for (int corner = 0; corner < 8; ++corner)
  {
    const int dx = corner & 1;
    const int dy = (corner >> 1) & 1;
    const int dz = (corner >> 2) & 1;
    const double weight = (dx ? tx : 1.0 - tx) * (dy ? ty : 1.0 - ty) * (dz ? tz : 1.0 - tz);
    const double value =
      2.0 * unitInterval(hashIndex(seed ^ 0x5bd1e995u, ix + dx, iy + dy, iz + dz)) - 1.0;
    result += weight * value;
  }
  return result;
}

// Convolves a (x fastest) block with a kernel along one axis, keeping only the voxels whose
// whole kernel lies inside: the output is kernel.size() - 1 shorter along that axis.
void convolveAlongAxis(const float* input,
  std::array<std::int64_t, 3> inputDimensions,
  int axis,
  const std::vector<double>& kernel,
  float* output)
{
  std::array<std::int64_t, 3> outputDimensions = inputDimensions;
  outputDimensions[axis] -= static_cast<std::int64_t>(kernel.size()) - 1;
  const std::int64_t strides[3] = {
    1, inputDimensions[0], inputDimensions[0] * inputDimensions[1]
  };
  const std::int64_t stride = strides[axis];
  const std::int64_t nx = outputDimensions[0];
  const std::int64_t ny = outputDimensions[1];
  vtkSMPTools::For(0,
    ny * outputDimensions[2],
    [&](std::int64_t begin, std::int64_t end)
    {
      for (std::int64_t row = begin; row < end; ++row)
      {
        const std::int64_t j = row % ny;
        const std::int64_t k = row / ny;
        const float* in = input + k * strides[2] + j * strides[1];
        float* out = output + row * nx;
        for (std::int64_t i = 0; i < nx; ++i)
        {
          double sum = 0.0;
          for (std::size_t t = 0; t < kernel.size(); ++t)
          {
            sum += kernel[t] * in[i + static_cast<std::int64_t>(t) * stride];
          }
          out[i] = static_cast<float>(sum);
        }
      }
    });
}

enum class Quadrant
{
  Medial,
  Lateral,
  Anterior,
  Posterior
};

Quadrant quadrantOf(Vec3 stemNormal)
{
  if (std::abs(stemNormal.x) >= std::abs(stemNormal.y))
  {
    return stemNormal.x >= 0.0 ? Quadrant::Medial : Quadrant::Lateral;
  }
  return stemNormal.y >= 0.0 ? Quadrant::Anterior : Quadrant::Posterior;
}

// Ear clipping of a simple counter-clockwise polygon. Taking the first ear each time gives the
// fans and slivers typical of CAD exports.
std::vector<std::array<std::int64_t, 3>> triangulatePolygon(const std::vector<Vec2>& polygon)
{
  std::vector<std::array<std::int64_t, 3>> triangles;
  std::vector<std::int64_t> remaining(polygon.size());
  for (std::size_t i = 0; i < polygon.size(); ++i)
  {
    remaining[i] = static_cast<std::int64_t>(i);
  }
  // A point blocks the ear (a, b, c) when it is inside the triangle or on the new diagonal c-a:
  // cutting along a run of collinear points (a subdivided straight side) would strand them.
  constexpr double onEdge = 1e-9;
  auto isInside = [](Vec2 p, Vec2 a, Vec2 b, Vec2 c)
  {
    return cross(b - a, p - a) > onEdge && cross(c - b, p - b) > onEdge &&
      cross(a - c, p - c) > -onEdge;
  };
  std::size_t guard = 0;
  while (remaining.size() > 3 && guard < polygon.size() * polygon.size())
  {
    ++guard;
    bool clipped = false;
    const std::size_t n = remaining.size();
    for (std::size_t i = 0; i < n; ++i)
    {
      const std::int64_t ia = remaining[(i + n - 1) % n];
      const std::int64_t ib = remaining[i];
      const std::int64_t ic = remaining[(i + 1) % n];
      const Vec2 a = polygon[ia];
      const Vec2 b = polygon[ib];
      const Vec2 c = polygon[ic];
      if (cross(b - a, c - b) <= onEdge)
      {
        continue; // reflex or flat corner: not an ear
      }
      bool empty = true;
      for (std::size_t other = 0; other < n && empty; ++other)
      {
        const std::int64_t io = remaining[other];
        if (io != ia && io != ib && io != ic && isInside(polygon[io], a, b, c))
        {
          empty = false;
        }
      }
      if (empty)
      {
        triangles.push_back({ ia, ib, ic });
        remaining.erase(remaining.begin() + static_cast<std::ptrdiff_t>(i));
        clipped = true;
        break;
      }
    }
    if (!clipped)
    {
      break;
    }
  }
  if (remaining.size() == 3)
  {
    triangles.push_back({ remaining[0], remaining[1], remaining[2] });
  }
  return triangles;
}
} // namespace

int tissueClassOf(Tissue tissue)
{
  switch (tissue)
  {
    case Tissue::Cortical:
      return 3;
    case Tissue::Cancellous:
      return 2;
    default:
      return 1;
  }
}

//------------------------------------------------------------------------------------------------
// StemOutline

StemOutline StemOutline::fromRoundedPolygon(const std::vector<Vec2>& corners,
  const std::vector<double>& filletRadii)
{
  const std::size_t n = corners.size();
  std::vector<Primitive> arcs(n);
  for (std::size_t i = 0; i < n; ++i)
  {
    const Vec2 previous = corners[(i + n - 1) % n];
    const Vec2 corner = corners[i];
    const Vec2 next = corners[(i + 1) % n];
    const Vec2 incoming = normalized(corner - previous);
    const Vec2 outgoing = normalized(next - corner);
    const double turn = std::atan2(cross(incoming, outgoing), dot(incoming, outgoing));
    const double radius = filletRadii[i];
    const double tangentLength = radius * std::tan(std::abs(turn) / 2.0);
    Primitive& arc = arcs[i];
    arc.isArc = true;
    arc.radius = radius;
    arc.start = corner - tangentLength * incoming;
    arc.end = corner + tangentLength * outgoing;
    const Vec2 leftNormal{ -incoming.y, incoming.x };
    // A left turn (convex corner) has its centre inside, a right turn (concave) outside.
    arc.center = arc.start + (turn > 0.0 ? radius : -radius) * leftNormal;
    arc.startAngle = std::atan2(arc.start.y - arc.center.y, arc.start.x - arc.center.x);
    arc.sweep = turn;
  }
  StemOutline outline;
  for (std::size_t i = 0; i < n; ++i)
  {
    outline.Primitives.push_back(arcs[i]);
    Primitive segment;
    segment.start = arcs[i].end;
    segment.end = arcs[(i + 1) % n].start;
    outline.Primitives.push_back(segment);
  }
  return outline;
}

StemOutline::Nearest StemOutline::nearest(Vec2 query) const
{
  Nearest best;
  double bestSquared = std::numeric_limits<double>::max();
  for (const Primitive& primitive : this->Primitives)
  {
    Vec2 point;
    Vec2 normal;
    if (primitive.isArc)
    {
      const Vec2 fromCenter = query - primitive.center;
      const Vec2 startDirection = primitive.start - primitive.center;
      const Vec2 endDirection = primitive.end - primitive.center;
      // Fillets turn by less than 180 degrees, so "inside the wedge" is two cross products.
      const double orientation = primitive.sweep > 0.0 ? 1.0 : -1.0;
      const bool inWedge = orientation * cross(startDirection, fromCenter) >= 0.0 &&
        orientation * cross(fromCenter, endDirection) >= 0.0;
      const double distanceFromCenter = length(fromCenter);
      if (inWedge && distanceFromCenter > 0.0)
      {
        point = primitive.center + (primitive.radius / distanceFromCenter) * fromCenter;
      }
      else
      {
        const Vec2 toStart = query - primitive.start;
        const Vec2 toEnd = query - primitive.end;
        point = dot(toStart, toStart) <= dot(toEnd, toEnd) ? primitive.start : primitive.end;
      }
      const Vec2 radial = (1.0 / primitive.radius) * (point - primitive.center);
      normal = primitive.sweep > 0.0 ? radial : -1.0 * radial;
    }
    else
    {
      const Vec2 direction = primitive.end - primitive.start;
      const double lengthSquared = dot(direction, direction);
      double t =
        lengthSquared > 0.0 ? dot(query - primitive.start, direction) / lengthSquared : 0.0;
      t = std::clamp(t, 0.0, 1.0);
      point = primitive.start + t * direction;
      normal = rightPerpendicular(normalized(direction));
    }
    const Vec2 offset = query - point;
    const double squared = dot(offset, offset);
    if (squared < bestSquared)
    {
      bestSquared = squared;
      best.point = point;
      best.outwardNormal = normal;
      best.signedDistance = dot(offset, normal) >= 0.0 ? std::sqrt(squared) : -std::sqrt(squared);
    }
  }
  return best;
}

std::vector<StemOutline::Sample> StemOutline::sample(double chordTolerance, double maxOffset) const
{
  std::vector<Sample> samples;
  for (const Primitive& primitive : this->Primitives)
  {
    if (!primitive.isArc)
    {
      // A straight piece needs few points: long, thin triangles, as in a CAD export. Exporters
      // still cap the edge length; ours scales with the tolerance.
      const double segmentLength = length(primitive.end - primitive.start);
      if (segmentLength > 1e-9)
      {
        const Vec2 normal = rightPerpendicular(normalized(primitive.end - primitive.start));
        const double maxEdge = std::clamp(500.0 * chordTolerance, 0.05, 10.0);
        const int pieces = std::max(1, static_cast<int>(std::ceil(segmentLength / maxEdge)));
        for (int piece = 0; piece < pieces; ++piece)
        {
          const double t = static_cast<double>(piece) / pieces;
          samples.push_back({ primitive.start + t * (primitive.end - primitive.start), normal });
        }
      }
      continue;
    }
    // The outline offset by up to maxOffset has radius up to radius + maxOffset on a convex
    // fillet; a concave fillet's offsets are tighter than the fillet itself.
    const double effectiveRadius =
      primitive.sweep > 0.0 ? primitive.radius + maxOffset : primitive.radius;
    const double ratio = std::clamp(1.0 - chordTolerance / effectiveRadius, -1.0, 1.0);
    const double maxStep = std::max(2.0 * std::acos(ratio), 1e-3);
    const int steps = std::max(1, static_cast<int>(std::ceil(std::abs(primitive.sweep) / maxStep)));
    for (int step = 0; step < steps; ++step)
    {
      const double angle = primitive.startAngle + primitive.sweep * step / steps;
      const Vec2 radial{ std::cos(angle), std::sin(angle) };
      samples.push_back({ primitive.center + primitive.radius * radial,
        primitive.sweep > 0.0 ? radial : -1.0 * radial });
    }
  }
  return samples;
}

double StemOutline::area() const
{
  const std::vector<Sample> fine = this->sample(1e-4, 0.0);
  double twiceArea = 0.0;
  for (std::size_t i = 0; i < fine.size(); ++i)
  {
    twiceArea += cross(fine[i].point, fine[(i + 1) % fine.size()].point);
  }
  return 0.5 * twiceArea;
}

//------------------------------------------------------------------------------------------------
// StemGeometry: a flat-wedge femoral stem (a size-12-like titanium stem, 10 mm thick).

StemGeometry::StemGeometry()
{
  this->HalfThickness = 5.0;
  const double r = this->HalfThickness;
  // Outline of the core (the stem minus its rounded rim of radius r), stem frame (m, s).
  const double distalHalfWidth = 1.5;
  const double distalLevel = r; // the tip surface is then at s = 0
  const Vec2 lateralBorderPoint{ -distalHalfWidth, distalLevel };
  const Vec2 lateralBorderDirection = normalized(Vec2{ -0.03, 1.0 });
  const Vec2 medialBorderPoint{ distalHalfWidth, distalLevel };
  const Vec2 medialBorderDirection = normalized(Vec2{ 0.045, 1.0 });
  // Neck: 135 degree neck-shaft angle, axis through the stem axis at s = 124.
  const Vec2 neckDirection{ InvSqrt2, InvSqrt2 };
  const Vec2 neckInferiorSide{ InvSqrt2, -InvSqrt2 };
  const Vec2 neckAxisOrigin{ 0.0, 124.0 };
  const double neckCoreHalfWidth = 1.0; // neck 12 mm medial-lateral by 10 mm antero-posterior
  const double trunnionDistance = 50.0;
  const double shoulderDistance = 22.0; // shoulder plane, perpendicular to the neck axis
  const Vec2 neckEnd = neckAxisOrigin + trunnionDistance * neckDirection;
  const Vec2 shoulderPoint = neckAxisOrigin + shoulderDistance * neckDirection;
  const Vec2 neckInferiorPoint = neckAxisOrigin + neckCoreHalfWidth * neckInferiorSide;
  const Vec2 neckSuperiorPoint = neckAxisOrigin - neckCoreHalfWidth * neckInferiorSide;

  const Vec2 calcarCorner =
    lineIntersection(medialBorderPoint, medialBorderDirection, neckInferiorPoint, neckDirection);
  const Vec2 neckShoulderCorner = shoulderPoint - neckCoreHalfWidth * neckInferiorSide;
  const Vec2 lateralShoulderCorner = lineIntersection(
    neckShoulderCorner, { -InvSqrt2, InvSqrt2 }, lateralBorderPoint, lateralBorderDirection);
  (void)neckSuperiorPoint;

  const std::vector<Vec2> corners{ { -distalHalfWidth, distalLevel },
    { distalHalfWidth, distalLevel },
    calcarCorner,
    neckEnd + neckCoreHalfWidth * neckInferiorSide,
    neckEnd - neckCoreHalfWidth * neckInferiorSide,
    neckShoulderCorner,
    lateralShoulderCorner };
  // Fillets: rounded distal end, the calcar curve, rounded trunnion corners, the neck-shoulder
  // junction (concave, larger than the contact layer plus r so offsets stay single-valued),
  // and the lateral shoulder.
  const std::vector<double> radii{ 1.45, 1.45, 40.0, 0.9, 0.9, 12.0, 4.0 };
  this->Outline = StemOutline::fromRoundedPolygon(corners, radii);
}

StemGeometry::Query StemGeometry::evaluate(Vec3 stemPoint) const
{
  const StemOutline::Nearest nearest = this->Outline.nearest({ stemPoint.x, stemPoint.z });
  Query query;
  Vec3 fromCore;
  if (nearest.signedDistance <= 0.0)
  {
    // Above or below the flat faces: the nearest core point is straight across.
    fromCore = { 0.0, stemPoint.y, 0.0 };
    const double distance = std::abs(stemPoint.y);
    query.signedDistance = distance - this->HalfThickness;
    query.outwardNormal = { 0.0, stemPoint.y >= 0.0 ? 1.0 : -1.0, 0.0 };
  }
  else
  {
    fromCore = { nearest.signedDistance * nearest.outwardNormal.x,
      stemPoint.y,
      nearest.signedDistance * nearest.outwardNormal.y };
    const double distance = length(fromCore);
    query.signedDistance = distance - this->HalfThickness;
    query.outwardNormal = (1.0 / distance) * fromCore;
  }
  query.footPoint = stemPoint - query.signedDistance * query.outwardNormal;
  return query;
}

double StemGeometry::topLevel() const
{
  double top = -std::numeric_limits<double>::max();
  for (const StemOutline::Sample& sample : this->Outline.sample(1e-3, 0.0))
  {
    top = std::max(top, sample.point.y + this->HalfThickness * sample.outwardNormal.y);
  }
  return top;
}

//------------------------------------------------------------------------------------------------
// Gruen zones

int gruenZone(double level, Vec3 outwardNormal, double resectionLevel, double tipZoneLength)
{
  if (level > resectionLevel)
  {
    return 0;
  }
  const Quadrant quadrant = quadrantOf(outwardNormal);
  const bool apSet = quadrant == Quadrant::Medial || quadrant == Quadrant::Lateral;
  if (level < tipZoneLength)
  {
    return apSet ? 4 : 11;
  }
  // 0 distal, 1 middle, 2 proximal third of [tip, resection level].
  const int third = std::clamp(static_cast<int>(3.0 * level / resectionLevel), 0, 2);
  switch (quadrant)
  {
    case Quadrant::Lateral:
      return 3 - third;
    case Quadrant::Medial:
      return 5 + third;
    case Quadrant::Anterior:
      return 10 - third;
    case Quadrant::Posterior:
    default:
      return 12 + third;
  }
}

//------------------------------------------------------------------------------------------------
// PhantomModel

PhantomModel::PhantomModel(const Parameters& parameters)
  : Params(parameters)
{
  this->Params.supersampling = std::max(1, this->Params.supersampling);
  for (double& spacing : this->Params.spacing)
  {
    spacing = std::max(spacing, 1e-3);
  }
  // Positive varus turns the distal tip towards lateral (-m).
  const double tilt = -this->Params.varusValgusDegrees * Pi / 180.0;
  this->TiltCos = std::cos(tilt);
  this->TiltSin = std::sin(tilt);
  this->SideSign = this->Params.side == Side::Right ? 1.0 : -1.0;
  this->FemurOrigin = { FemurOriginX * this->SideSign, FemurOriginY, FemurOriginZ };

  double bounds[6];
  this->stemBounds(bounds);
  for (int axis = 0; axis < 3; ++axis)
  {
    const double low = bounds[2 * axis] - this->Params.margin;
    const double high = bounds[2 * axis + 1] + this->Params.margin;
    const double spacing = this->Params.spacing[axis];
    // Snap the origin to the grid of the spacing so that the volume looks like a scanner's.
    this->Origin[axis] = std::floor(low / spacing) * spacing;
    this->Dimensions[axis] = static_cast<int>(std::ceil((high - this->Origin[axis]) / spacing)) + 1;
  }
}

Vec3 PhantomModel::worldToFemur(Vec3 world) const
{
  const Vec3 relative = world - this->FemurOrigin;
  return { this->SideSign * relative.x, -relative.y, relative.z };
}

Vec3 PhantomModel::stemToFemur(Vec3 stemPoint) const
{
  const double dm = stemPoint.x;
  const double ds = stemPoint.z - PivotLevel;
  return { dm * this->TiltCos - ds * this->TiltSin,
    stemPoint.y,
    PivotLevel + dm * this->TiltSin + ds * this->TiltCos };
}

Vec3 PhantomModel::worldToStem(Vec3 world) const
{
  const Vec3 femur = this->worldToFemur(world);
  const double dm = femur.x;
  const double dz = femur.z - PivotLevel;
  return { dm * this->TiltCos + dz * this->TiltSin,
    femur.y,
    PivotLevel - dm * this->TiltSin + dz * this->TiltCos };
}

Vec3 PhantomModel::stemToWorld(Vec3 stemPoint) const
{
  const Vec3 femur = this->stemToFemur(stemPoint);
  return { this->FemurOrigin.x + this->SideSign * femur.x,
    this->FemurOrigin.y - femur.y,
    this->FemurOrigin.z + femur.z };
}

Vec3 PhantomModel::stemDirectionToWorld(Vec3 direction) const
{
  const Vec3 femur{ direction.x * this->TiltCos - direction.z * this->TiltSin,
    direction.y,
    direction.x * this->TiltSin + direction.z * this->TiltCos };
  return { this->SideSign * femur.x, -femur.y, femur.z };
}

Vec3 PhantomModel::tipPoint() const
{
  return this->stemToWorld({ 0.0, 0.0, 0.0 });
}
Vec3 PhantomModel::axisDirection() const
{
  return this->stemDirectionToWorld({ 0.0, 0.0, 1.0 });
}
Vec3 PhantomModel::medialDirection() const
{
  return this->stemDirectionToWorld({ 1.0, 0.0, 0.0 });
}
Vec3 PhantomModel::anteriorDirection() const
{
  return this->stemDirectionToWorld({ 0.0, 1.0, 0.0 });
}

bool PhantomModel::insideFemur(Vec3 femur) const
{
  const double flare = smoothstep(femur.z, MetaphysisFlareStart, MetaphysisFlareEnd);
  const double center = FlareMedialShift * flare;
  const double radiusML = DiaphysisRadius + FlareExtraMLRadius * flare;
  const double radiusAP = DiaphysisRadius + FlareExtraAPRadius * flare;
  const double u = (femur.x - center) / radiusML;
  const double v = femur.y / radiusAP;
  if (u * u + v * v > 1.0)
  {
    return false;
  }
  const double boneTop =
    this->Params.resectionLevel + GreaterTrochanterSlope * std::max(0.0, -femur.x);
  return femur.z <= boneTop;
}

Tissue PhantomModel::anatomyAt(Vec3 femur) const
{
  const double dm = femur.x - ThighCenterM;
  const double da = femur.y - ThighCenterA;
  const double thighRadius = std::sqrt(dm * dm + da * da);
  if (thighRadius > SkinRadius)
  {
    return Tissue::Air;
  }
  if (thighRadius > MuscleRadius)
  {
    return Tissue::Fat;
  }
  if (!this->insideFemur(femur))
  {
    return Tissue::Muscle;
  }
  const double flare = smoothstep(femur.z, MetaphysisFlareStart, MetaphysisFlareEnd);
  const double thickness = DiaphysisCorticalThickness -
    (DiaphysisCorticalThickness - MetaphysisCorticalThickness) *
      smoothstep(femur.z, CorticalThinningStart, CorticalThinningEnd);
  const double center = FlareMedialShift * flare;
  const double canalML = DiaphysisRadius + FlareExtraMLRadius * flare - thickness;
  const double canalAP = DiaphysisRadius + FlareExtraAPRadius * flare - thickness;
  const double u = (femur.x - center) / canalML;
  const double v = femur.y / canalAP;
  if (u * u + v * v > 1.0)
  {
    return Tissue::Cortical;
  }
  return femur.z > MarrowToCancellousLevel ? Tissue::Cancellous : Tissue::Marrow;
}

Tissue PhantomModel::contactTissue(const StemGeometry::Query& stemQuery) const
{
  switch (this->Params.pattern)
  {
    case ContactPattern::PressFit:
      return Tissue::Cortical;
    case ContactPattern::Loosened:
      return Tissue::FibrousTissue;
    case ContactPattern::Cancellous:
      return Tissue::Cancellous;
    case ContactPattern::Mixed:
    default:
      break;
  }
  // The designed default (see README): cortical contact distal-lateral, distal-anterior and at
  // the calcar; a fibrous membrane around the tip and in two patches; cancellous elsewhere. The
  // patches cross zone boundaries so that zones have partial fractions.
  const double level = stemQuery.footPoint.z;
  const double height = level / this->Params.resectionLevel;
  if (level < MembraneTipLength)
  {
    return Tissue::FibrousTissue;
  }
  switch (quadrantOf(stemQuery.outwardNormal))
  {
    case Quadrant::Lateral:
      return height < 0.5 ? Tissue::Cortical : Tissue::Cancellous;
    case Quadrant::Medial:
      if (height > 0.75)
      {
        return Tissue::Cortical;
      }
      return height > 0.45 && height < 0.6 ? Tissue::FibrousTissue : Tissue::Cancellous;
    case Quadrant::Anterior:
      return height < 0.3 ? Tissue::Cortical : Tissue::Cancellous;
    case Quadrant::Posterior:
    default:
      return height > 0.4 && height < 0.62 ? Tissue::FibrousTissue : Tissue::Cancellous;
  }
}

double PhantomModel::stemCurvatureShift(Vec3 world,
  const StemGeometry::Query& query,
  double bloomSigma) const
{
  const Parameters& p = this->Params;
  // The normal field's divergence half-way to the surface: the surface's curvature there is
  // kappa / (1 + kappa d / 2), which makes the first-order shift match a blurred disk's exact
  // edge within a few HU (at the point itself it overshoots, at the surface it falls short).
  const Vec3 normal = this->stemDirectionToWorld(query.outwardNormal);
  world = world - (0.5 * query.signedDistance) * normal;
  const StemGeometry::Query halfWay = this->Stem.evaluate(this->worldToStem(world));
  const Vec3 halfWayNormal = this->stemDirectionToWorld(halfWay.outwardNormal);
  const double step = CurvatureStep;
  double shift = 0.0;
  double largestVariance = 0.0;
  for (int axis = 0; axis < 3; ++axis)
  {
    Vec3 moved = world;
    (axis == 0 ? moved.x : axis == 1 ? moved.y : moved.z) += step;
    const Vec3 movedNormal =
      this->stemDirectionToWorld(this->Stem.evaluate(this->worldToStem(moved)).outwardNormal);
    const double derivative = axis == 0 ? (movedNormal.x - halfWayNormal.x) / step
      : axis == 1                       ? (movedNormal.y - halfWayNormal.y) / step
                                        : (movedNormal.z - halfWayNormal.z) / step;
    const double variance = p.blurSigma * p.blurSigma + bloomSigma * bloomSigma +
      p.spacing[axis] * p.spacing[axis] / 12.0;
    shift += 0.5 * variance * derivative;
    largestVariance = std::max(largestVariance, variance);
  }
  // First order in the curvature only: no more than half a spread (sharp shoulder edges).
  const double limit = 0.5 * std::sqrt(largestVariance);
  return std::clamp(shift, -limit, limit);
}

PhantomModel::OtherMetalQuery PhantomModel::queryOtherMetal(Vec3 stemPoint) const
{
  OtherMetalQuery query;
  if (this->Params.otherMetal == OtherMetal::None)
  {
    return query;
  }
  const Vec3 pole{ InvSqrt2, 0.0, InvSqrt2 };
  const Vec3 center = Vec3{ 0.0, 0.0, 124.0 } + HeadNeckDistance * pole;
  query.fromHeadCenter = stemPoint - center;
  const double radius = length(query.fromHeadCenter);
  query.head = radius - HeadRadius;
  if (this->Params.otherMetal != OtherMetal::HeadAndCup)
  {
    return query;
  }
  query.poleHeight = dot(query.fromHeadCenter, pole);
  if (query.poleHeight >= 0.0)
  {
    query.cup = std::max(CupInnerRadius - radius, radius - CupOuterRadius);
  }
  else
  {
    // Below the rim plane: the distance to the rim's annulus.
    const double inPlane = length(query.fromHeadCenter - query.poleHeight * pole);
    const double across = std::max({ 0.0, CupInnerRadius - inPlane, inPlane - CupOuterRadius });
    query.cup = std::sqrt(across * across + query.poleHeight * query.poleHeight);
  }
  return query;
}

Tissue PhantomModel::tissueAroundOtherMetal(const OtherMetalQuery& query) const
{
  if (this->Params.otherMetal != OtherMetal::HeadAndCup || query.poleHeight < 0.0)
  {
    return Tissue::Air;
  }
  const double radius = length(query.fromHeadCenter);
  if (radius > HeadRadius && radius < CupInnerRadius)
  {
    return Tissue::Fat; // polyethylene is about -100 HU, like fat
  }
  if (radius > CupOuterRadius && radius < CupOuterRadius + PelvicCortexThickness)
  {
    return Tissue::Cortical;
  }
  if (radius > CupOuterRadius && radius < CupOuterRadius + PelvicBoneThickness)
  {
    return Tissue::Cancellous;
  }
  return Tissue::Air;
}

Tissue PhantomModel::tissueIgnoringMetal(Vec3 world, const StemGeometry::Query* knownStem) const
{
  const Vec3 stemPoint = this->worldToStem(world);
  const StemGeometry::Query stemQuery = knownStem ? *knownStem : this->Stem.evaluate(stemPoint);
  const Vec3 femur = this->worldToFemur(world);
  const Parameters& p = this->Params;
  if (stemQuery.signedDistance < p.contactLayerThickness &&
    stemQuery.footPoint.z <= p.resectionLevel && this->insideFemur(femur))
  {
    const Tissue contact = this->contactTissue(stemQuery);
    const double membrane =
      p.membraneThickness < 0.0 ? p.contactLayerThickness : p.membraneThickness;
    if (contact != Tissue::FibrousTissue || stemQuery.signedDistance < membrane)
    {
      return contact;
    }
    // Behind a thin membrane lies bone: the cortex where the anatomy has one, else cancellous.
    const Tissue behind = this->anatomyAt(femur);
    return behind == Tissue::Cortical ? Tissue::Cortical : Tissue::Cancellous;
  }
  const Tissue aroundOther = this->tissueAroundOtherMetal(this->queryOtherMetal(stemPoint));
  return aroundOther != Tissue::Air ? aroundOther : this->anatomyAt(femur);
}

double PhantomModel::interfaceWidthAt(Vec3 surfacePoint, Vec3 outwardNormal) const
{
  // March out in small steps, then bisect the first step that enters bone.
  constexpr double Step = 0.05;
  auto isBone = [&](double depth)
  { return tissueClassOf(this->tissueAt(surfacePoint + depth * outwardNormal)) >= 2; };
  if (isBone(1e-6))
  {
    return 0.0;
  }
  for (double depth = Step; depth <= MaximumInterfaceSearch; depth += Step)
  {
    if (isBone(depth))
    {
      double low = depth - Step;
      double high = depth;
      for (int i = 0; i < 12; ++i)
      {
        const double middle = 0.5 * (low + high);
        (isBone(middle) ? high : low) = middle;
      }
      return 0.5 * (low + high);
    }
  }
  return MaximumInterfaceSearch;
}

Tissue PhantomModel::tissueAt(Vec3 world) const
{
  const StemGeometry::Query stemQuery = this->Stem.evaluate(this->worldToStem(world));
  const OtherMetalQuery other = this->queryOtherMetal(this->worldToStem(world));
  if (stemQuery.signedDistance < 0.0 || other.head < 0.0 || other.cup < 0.0)
  {
    return Tissue::Metal;
  }
  return this->tissueIgnoringMetal(world, &stemQuery);
}

double PhantomModel::tissueHU(Tissue tissue, Vec3 world) const
{
  switch (tissue)
  {
    case Tissue::Air:
      return AirHU;
    case Tissue::Fat:
      return FatHU;
    case Tissue::Muscle:
      return MuscleHU;
    case Tissue::Marrow:
      return MarrowHU;
    case Tissue::FibrousTissue:
      return this->Params.fibrousTissueHU;
    case Tissue::Cancellous:
      return this->Params.cancellousHU +
        this->Params.cancellousTextureHU * valueNoise(this->Params.seed, world);
    case Tissue::Cortical:
      return this->Params.corticalHU;
    case Tissue::Metal:
    default:
      return this->Params.metalHU;
  }
}

void PhantomModel::stemBounds(double bounds[6]) const
{
  for (int axis = 0; axis < 3; ++axis)
  {
    bounds[2 * axis] = std::numeric_limits<double>::max();
    bounds[2 * axis + 1] = -std::numeric_limits<double>::max();
  }
  const double r = this->Stem.halfThickness();
  for (const StemOutline::Sample& sample : this->Stem.outline().sample(0.01, r))
  {
    const Vec2 rim = sample.point + r * sample.outwardNormal;
    for (const Vec3& local : { Vec3{ rim.x, 0.0, rim.y },
           Vec3{ sample.point.x, r, sample.point.y },
           Vec3{ sample.point.x, -r, sample.point.y } })
    {
      const Vec3 world = this->stemToWorld(local);
      const double coordinates[3] = { world.x, world.y, world.z };
      for (int axis = 0; axis < 3; ++axis)
      {
        bounds[2 * axis] = std::min(bounds[2 * axis], coordinates[axis]);
        bounds[2 * axis + 1] = std::max(bounds[2 * axis + 1], coordinates[axis]);
      }
    }
  }
}

void PhantomModel::wholeExtent(int extent[6]) const
{
  for (int axis = 0; axis < 3; ++axis)
  {
    extent[2 * axis] = 0;
    extent[2 * axis + 1] = this->Dimensions[axis] - 1;
  }
}

void PhantomModel::origin(double origin[3]) const
{
  for (int axis = 0; axis < 3; ++axis)
  {
    origin[axis] = this->Origin[axis];
  }
}

float PhantomModel::voxelWithArtefacts(const std::int64_t voxel[3],
  float tissueValue,
  std::uint8_t* label) const
{
  const Parameters& p = this->Params;
  const double* spacing = p.spacing.data();
  const Vec3 world{ this->Origin[0] + voxel[0] * spacing[0],
    this->Origin[1] + voxel[1] * spacing[1],
    this->Origin[2] + voxel[2] * spacing[2] };
  const Vec3 stemPoint = this->worldToStem(world);
  const StemGeometry::Query stemQuery = this->Stem.evaluate(stemPoint);
  const OtherMetalQuery other = this->queryOtherMetal(stemPoint);
  // A metal edge is spread by the PSF, the voxel (box of the voxel size along the edge's
  // normal) and the blooming: a Gaussian edge profile with these variances added.
  const double bloomSigma = 0.5 * p.bloomingWidth;
  auto metalShare = [&](double distance, Vec3 stemNormal)
  {
    const Vec3 normal = this->stemDirectionToWorld(stemNormal);
    const double boxVariance = (normal.x * normal.x * spacing[0] * spacing[0] +
                                 normal.y * normal.y * spacing[1] * spacing[1] +
                                 normal.z * normal.z * spacing[2] * spacing[2]) /
      12.0;
    const double edgeSigma =
      std::sqrt(p.blurSigma * p.blurSigma + bloomSigma * bloomSigma + boxVariance);
    return 0.5 * std::erfc(distance / (edgeSigma * std::sqrt(2.0)));
  };
  // Blurring a curved edge moves its half-way level inward by half the divergence of the
  // normal field weighted by the blur's variance along each axis (a stem of 5 mm radius with a
  // 1.3 mm spread: 0.17 mm), as a blurred CT of a real stem shows it. Near the metal only.
  const double shift = std::abs(stemQuery.signedDistance) < CurvatureReach
    ? this->stemCurvatureShift(world, stemQuery, bloomSigma)
    : 0.0;
  const double stemShare = metalShare(stemQuery.signedDistance + shift, stemQuery.outwardNormal);
  double headShare = 0.0;
  double cupShare = 0.0;
  if (p.otherMetal != OtherMetal::None)
  {
    const double radius = std::max(length(other.fromHeadCenter), 1e-9);
    const Vec3 radial = (1.0 / radius) * other.fromHeadCenter;
    headShare = metalShare(other.head, radial);
    // The shell's normal is radial on its spherical faces; a cheap and close choice at the rim.
    cupShare = metalShare(other.cup, radial);
  }
  const double shares = stemShare + headShare + cupShare;
  const double scale = shares > 1.0 ? 1.0 / shares : 1.0;
  const double metal = scale * (stemShare + cupShare) * p.metalHU + scale * headShare * p.headHU;
  const double tissueShare = 1.0 - std::min(shares, 1.0);
  double value = tissueValue * tissueShare + metal;

  // Beam hardening: a dark halo next to any metal, and dark streaks leaving the metal along the
  // medial-lateral direction (the longest path through it).
  const double stemOutside = std::max(stemQuery.signedDistance, 0.0);
  const double otherOutside = std::max(std::min(other.head, other.cup), 0.0);
  const double halo =
    p.beamHardeningHU * std::exp(-std::min(stemOutside, otherOutside) / HaloDecayLength);
  const double streakDepth = p.streakHU < 0.0 ? StreakShare * p.beamHardeningHU : p.streakHU;
  const double apOffset = stemPoint.y / this->Stem.halfThickness();
  double streak = stemQuery.signedDistance > 0.0
    ? streakDepth * std::pow(std::abs(stemQuery.outwardNormal.x), 4) *
      std::exp(-2.0 * apOffset * apOffset) * std::exp(-stemOutside / StreakDecayLength)
    : 0.0;
  if (p.otherMetal != OtherMetal::None && otherOutside > 0.0)
  {
    // A beam through the head (and cup) along m, as wide as the metal it crosses.
    const double beamRadius = p.otherMetal == OtherMetal::HeadAndCup ? CupOuterRadius : HeadRadius;
    const double ap = other.fromHeadCenter.y / beamRadius;
    const double level = other.fromHeadCenter.z / beamRadius;
    streak += streakDepth * std::exp(-2.0 * (ap * ap + level * level)) *
      std::exp(-otherOutside / StreakDecayLength);
  }
  value -= tissueShare * (halo + streak);
  if (p.noiseSigma > 0.0)
  {
    value += p.noiseSigma * gaussianNoise(p.seed, voxel[0], voxel[1], voxel[2]);
  }
  if (p.clip)
  {
    value = std::min(value, p.clipMaximumHU);
  }
  value = std::max(value, -1024.0);
  if (label)
  {
    const bool inMetal = stemQuery.signedDistance < 0.0 || other.head < 0.0 || other.cup < 0.0;
    *label = static_cast<std::uint8_t>(
      inMetal ? Tissue::Metal : this->tissueIgnoringMetal(world, &stemQuery));
  }
  return static_cast<float>(value);
}

void PhantomModel::generateVolume(const int extent[6],
  float* hu,
  std::uint8_t* labels,
  const std::function<void(double)>& progress) const
{
  const Parameters& p = this->Params;
  const double* spacing = p.spacing.data();
  // The blur needs the partial-volume field beyond the requested extent; the phantom is
  // analytic, so the margin is computed, not exchanged, and pieces match the whole volume.
  int margin[3];
  int grown[6];
  for (int axis = 0; axis < 3; ++axis)
  {
    margin[axis] =
      p.blurSigma > 0.0 ? static_cast<int>(std::ceil(3.0 * p.blurSigma / spacing[axis])) : 0;
    grown[2 * axis] = extent[2 * axis] - margin[axis];
    grown[2 * axis + 1] = extent[2 * axis + 1] + margin[axis];
  }
  const std::int64_t gx = grown[1] - grown[0] + 1;
  const std::int64_t gy = grown[3] - grown[2] + 1;
  const std::int64_t gz = grown[5] - grown[4] + 1;
  const std::int64_t ex = extent[1] - extent[0] + 1;
  const std::int64_t ey = extent[3] - extent[2] + 1;
  const std::int64_t ez = extent[5] - extent[4] + 1;
  if (ex <= 0 || ey <= 0 || ez <= 0)
  {
    return;
  }

  auto worldOf = [&](double i, double j, double k)
  {
    return Vec3{ this->Origin[0] + i * spacing[0],
      this->Origin[1] + j * spacing[1],
      this->Origin[2] + k * spacing[2] };
  };
  auto report = [&](double fraction)
  {
    if (progress)
    {
      progress(fraction);
    }
  };

  // Stage 1: tissue values averaged over sub-voxel samples (partial volume), metal ignored.
  std::vector<float> field(static_cast<std::size_t>(gx * gy * gz));
  const int sub = p.supersampling;
  const std::int64_t chunk = std::max<std::int64_t>(1, gz / 20);
  for (std::int64_t kBegin = 0; kBegin < gz; kBegin += chunk)
  {
    const std::int64_t kEnd = std::min(gz, kBegin + chunk);
    vtkSMPTools::For(kBegin * gy,
      kEnd * gy,
      [&](std::int64_t rowBegin, std::int64_t rowEnd)
      {
        for (std::int64_t row = rowBegin; row < rowEnd; ++row)
        {
          const std::int64_t k = row / gy;
          const std::int64_t j = row % gy;
          float* out = field.data() + row * gx;
          for (std::int64_t i = 0; i < gx; ++i)
          {
            double sum = 0.0;
            for (int sk = 0; sk < sub; ++sk)
            {
              for (int sj = 0; sj < sub; ++sj)
              {
                for (int si = 0; si < sub; ++si)
                {
                  const Vec3 world = worldOf(grown[0] + i - 0.5 + (si + 0.5) / sub,
                    grown[2] + j - 0.5 + (sj + 0.5) / sub,
                    grown[4] + k - 0.5 + (sk + 0.5) / sub);
                  sum += this->tissueHU(this->tissueIgnoringMetal(world, nullptr), world);
                }
              }
            }
            out[i] = static_cast<float>(sum / (sub * sub * sub));
          }
        }
      });
    report(0.75 * static_cast<double>(kEnd) / gz);
  }

  // Stage 2: Gaussian point-spread function, separable, cropping to the extent axis by axis.
  std::vector<float> blurred(static_cast<std::size_t>(ex * ey * ez));
  if (p.blurSigma > 0.0)
  {
    std::vector<std::vector<double>> kernels(3);
    for (int axis = 0; axis < 3; ++axis)
    {
      double total = 0.0;
      for (int t = -margin[axis]; t <= margin[axis]; ++t)
      {
        const double x = t * spacing[axis] / p.blurSigma;
        kernels[axis].push_back(std::exp(-0.5 * x * x));
        total += kernels[axis].back();
      }
      for (double& weight : kernels[axis])
      {
        weight /= total;
      }
    }
    // Crop one axis at a time: grown -> (ex, gy, gz) -> (ex, ey, gz) -> (ex, ey, ez).
    std::vector<float> passX(static_cast<std::size_t>(ex * gy * gz));
    std::vector<float> passY(static_cast<std::size_t>(ex * ey * gz));
    convolveAlongAxis(field.data(), { gx, gy, gz }, 0, kernels[0], passX.data());
    convolveAlongAxis(passX.data(), { ex, gy, gz }, 1, kernels[1], passY.data());
    convolveAlongAxis(passY.data(), { ex, ey, gz }, 2, kernels[2], blurred.data());
  }
  else
  {
    std::copy(field.begin(), field.end(), blurred.begin());
  }
  field = std::vector<float>();
  report(0.85);

  // Stage 3: the metal, its blooming, beam hardening, noise and clipping, voxel by voxel.
  vtkSMPTools::For(0,
    ey * ez,
    [&](std::int64_t begin, std::int64_t end)
    {
      for (std::int64_t row = begin; row < end; ++row)
      {
        const std::int64_t voxel[3] = { extent[0], extent[2] + row % ey, extent[4] + row / ey };
        for (std::int64_t i = 0; i < ex; ++i)
        {
          const std::int64_t index = row * ex + i;
          const std::int64_t at[3] = { voxel[0] + i, voxel[1], voxel[2] };
          hu[index] =
            this->voxelWithArtefacts(at, blurred[index], labels ? labels + index : nullptr);
        }
      }
    });
  report(1.0);
}

namespace
{
/// Reverses every triangle when the signed volume is negative (inward).
void makeOutward(Surface& surface)
{
  double signedVolume = 0.0;
  for (const auto& triangle : surface.triangles)
  {
    signedVolume += dot(surface.points[triangle[0]],
                      cross(surface.points[triangle[1]], surface.points[triangle[2]])) /
      6.0;
  }
  if (signedVolume < 0.0)
  {
    for (auto& triangle : surface.triangles)
    {
      std::swap(triangle[1], triangle[2]);
    }
  }
}
} // namespace

Surface PhantomModel::generateSurface() const
{
  Surface surface;
  const double r = this->Stem.halfThickness();
  const double tolerance = std::max(this->Params.chordTolerance, 1e-4);
  const std::vector<StemOutline::Sample> outline = this->Stem.outline().sample(tolerance, r);
  const auto columns = static_cast<std::int64_t>(outline.size());
  const double latitudeStep = 2.0 * std::acos(std::clamp(1.0 - tolerance / r, -1.0, 1.0));
  const int rings = std::max(4, static_cast<int>(std::ceil(Pi / latitudeStep)));

  // Rings of the rounded rim, from the posterior flat face (a = -r) to the anterior (a = +r).
  for (int ring = 0; ring <= rings; ++ring)
  {
    const double latitude = -0.5 * Pi + Pi * ring / rings;
    const double inPlane = (ring == 0 || ring == rings) ? 0.0 : r * std::cos(latitude);
    const double across = ring == 0 ? -r : (ring == rings ? r : r * std::sin(latitude));
    for (const StemOutline::Sample& sample : outline)
    {
      const Vec3 local{ sample.point.x + inPlane * sample.outwardNormal.x,
        across,
        sample.point.y + inPlane * sample.outwardNormal.y };
      const double inPlaneShare = (ring == 0 || ring == rings) ? 0.0 : std::cos(latitude);
      const Vec3 localNormal{
        inPlaneShare * sample.outwardNormal.x, across / r, inPlaneShare * sample.outwardNormal.y
      };
      surface.points.push_back(this->stemToWorld(local));
      surface.trueNormals.push_back(normalized(this->stemDirectionToWorld(localNormal)));
      surface.trueGruenZone.push_back(static_cast<std::uint8_t>(
        gruenZone(local.z, localNormal, this->Params.resectionLevel, this->Params.tipZoneLength)));
    }
  }
  // Rim quads, each split along one diagonal (outward in the right-handed stem frame).
  for (int ring = 0; ring < rings; ++ring)
  {
    for (std::int64_t column = 0; column < columns; ++column)
    {
      const std::int64_t a = ring * columns + column;
      const std::int64_t b = ring * columns + (column + 1) % columns;
      const std::int64_t c = (ring + 1) * columns + (column + 1) % columns;
      const std::int64_t d = (ring + 1) * columns + column;
      surface.triangles.push_back({ a, c, b });
      surface.triangles.push_back({ a, d, c });
    }
  }
  // Flat faces: the outline polygon, triangulated like a CAD export (fans and slivers).
  std::vector<Vec2> polygon;
  for (const StemOutline::Sample& sample : outline)
  {
    polygon.push_back(sample.point);
  }
  for (const auto& triangle : triangulatePolygon(polygon))
  {
    // Counter-clockwise in (m, s) faces -a: right for the posterior face, reversed for anterior.
    surface.triangles.push_back({ triangle[0], triangle[1], triangle[2] });
    const std::int64_t top = static_cast<std::int64_t>(rings) * columns;
    surface.triangles.push_back({ top + triangle[0], top + triangle[2], top + triangle[1] });
  }
  // The world mapping mirrors for a right femur (LPS is not (medial, anterior, superior)):
  // restore outward orientation from the signed volume.
  makeOutward(surface);
  this->addTissueTruth(surface, surface.points);
  return surface;
}

void PhantomModel::addTissueTruth(Surface& surface, const std::vector<Vec3>& origins) const
{
  // Ground truth: the tissue a fixed distance outside along the true normal. A vertex near a
  // boundary of the pattern (or of the anatomy) has a class that hinges on sub-millimetre
  // details; it is flagged so that tests can tell method errors from truth ambiguity.
  surface.trueTissueClass.resize(surface.points.size());
  surface.trueTissueClassIsRobust.resize(surface.points.size());
  surface.trueInterfaceWidth.resize(surface.points.size());
  vtkSMPTools::For(0,
    static_cast<std::int64_t>(surface.points.size()),
    [&](std::int64_t begin, std::int64_t end)
    {
      for (std::int64_t i = begin; i < end; ++i)
      {
        const Vec3 normal = surface.trueNormals[i];
        const Vec3 origin = origins[i];
        const Vec3 probe = origin + this->Params.truthDistance * normal;
        const int truth = tissueClassOf(this->tissueAt(probe));
        surface.trueTissueClass[i] = static_cast<std::uint8_t>(truth);
        const Vec3 helper = std::abs(normal.x) < 0.9 ? Vec3{ 1, 0, 0 } : Vec3{ 0, 1, 0 };
        const Vec3 tangent1 = normalized(cross(normal, helper));
        const Vec3 tangent2 = cross(normal, tangent1);
        bool robust = true;
        const double tolerance = this->Params.truthDepthTolerance;
        for (const double depth : { std::max(0.0, this->Params.truthDistance - tolerance),
               this->Params.truthDistance,
               this->Params.truthDistance + tolerance })
        {
          for (const Vec3 shift : { Vec3{},
                 RobustShift * tangent1,
                 -RobustShift * tangent1,
                 RobustShift * tangent2,
                 -RobustShift * tangent2 })
          {
            robust =
              robust && tissueClassOf(this->tissueAt(origin + shift + depth * normal)) == truth;
          }
        }
        surface.trueTissueClassIsRobust[i] = robust ? 1 : 0;
        surface.trueInterfaceWidth[i] = static_cast<float>(this->interfaceWidthAt(origin, normal));
      }
    });
}

PhantomModel::StemMask PhantomModel::stemMask(double voxelSize) const
{
  StemMask mask;
  mask.spacing = voxelSize;
  double bounds[6];
  this->stemBounds(bounds);
  for (int axis = 0; axis < 3; ++axis)
  {
    mask.origin[axis] = bounds[2 * axis] - 2.0 * voxelSize;
    mask.dimensions[axis] =
      static_cast<int>(std::ceil((bounds[2 * axis + 1] - bounds[2 * axis]) / voxelSize)) + 5;
  }
  const std::int64_t nx = mask.dimensions[0];
  const std::int64_t ny = mask.dimensions[1];
  mask.inside.assign(nx * ny * mask.dimensions[2], 0);
  vtkSMPTools::For(0,
    static_cast<std::int64_t>(mask.dimensions[2]),
    [&](std::int64_t begin, std::int64_t end)
    {
      for (std::int64_t k = begin; k < end; ++k)
      {
        for (std::int64_t j = 0; j < ny; ++j)
        {
          for (std::int64_t i = 0; i < nx; ++i)
          {
            const Vec3 world{ mask.origin[0] + i * voxelSize,
              mask.origin[1] + j * voxelSize,
              mask.origin[2] + k * voxelSize };
            const bool metal = this->Stem.evaluate(this->worldToStem(world)).signedDistance < 0.0;
            mask.inside[(k * ny + j) * nx + i] = metal ? 1 : 0;
          }
        }
      }
    });
  return mask;
}

Surface PhantomModel::annotatedSurface(std::vector<Vec3> points,
  std::vector<std::array<std::int64_t, 3>> triangles) const
{
  Surface surface;
  surface.points = std::move(points);
  surface.triangles = std::move(triangles);
  makeOutward(surface);
  std::vector<Vec3> feet(surface.points.size());
  surface.trueNormals.resize(surface.points.size());
  surface.trueGruenZone.resize(surface.points.size());
  for (std::size_t i = 0; i < surface.points.size(); ++i)
  {
    const StemGeometry::Query nearest = this->Stem.evaluate(this->worldToStem(surface.points[i]));
    feet[i] = this->stemToWorld(nearest.footPoint);
    surface.trueNormals[i] = normalized(this->stemDirectionToWorld(nearest.outwardNormal));
    surface.trueGruenZone[i] = static_cast<std::uint8_t>(gruenZone(nearest.footPoint.z,
      nearest.outwardNormal,
      this->Params.resectionLevel,
      this->Params.tipZoneLength));
  }
  this->addTissueTruth(surface, feet);
  return surface;
}

} // namespace phantom
} // namespace ibc
