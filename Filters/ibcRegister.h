// SPDX-License-Identifier: BSD-3-Clause
// Rigid (optionally similarity) registration of a CAD implant surface onto a target surface: the
// algorithms of vtkImplantRegister in plain C++.
//
// 1. The moving surface is sampled uniformly by area (CAD exports put their vertices anywhere).
// 2. Initial alignments: the pose as given, the centroids matched, and the principal axes of the
//    two surfaces' exact area moments matched with each of the four proper sign choices (the
//    180-degree ambiguities of principal axes). Each is refined briefly; the best continues
//    (among starts that fit about equally well, the one turning the CAD least from its given
//    pose, since a target may show only a symmetric part of the implant).
// 3. Trimmed point-to-plane ICP: each sample is paired with its closest point on the target;
//    only the `overlap` share of pairs with the smallest distances counts (the rest is CAD
//    outside the CT, or target that is not the implant); the linearised point-to-plane problem
//    gives a small rotation (and translation, and scale when allowed) per iteration.
#ifndef ibcRegister_h
#define ibcRegister_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcLinearAlgebra.h"
#include "ibcRemesh.h" // TriangleMesh
#include "ibcVector.h"

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace ibc
{
namespace registration
{

/// p -> scale * rotation * p + translation.
struct IMPLANTBONECONTACTFILTERS_EXPORT Transform
{
  Rotation rotation = identityRotation();
  Vec3 translation;
  double scale = 1.0;

  Vec3 apply(Vec3 p) const
  {
    return this->scale * ibc::apply(this->rotation, p) + this->translation;
  }
  /// `next` after this one.
  Transform then(const Transform& next) const;
  Transform inverse() const;
  /// Row-major 4x4 homogeneous matrix.
  std::array<double, 16> matrix() const;
};

struct Options
{
  double overlap = 0.0; ///< share of the pairs kept each iteration; 0 = automatic
  int maximumIterations = 100;
  double tolerance = 1e-4;    ///< mm: stop when no sample moves further in an iteration
  bool similarity = false;    ///< also estimate a uniform scale
  std::size_t samples = 5000; ///< points sampled on the moving surface
  bool automaticInitialAlignment = true;
};

struct Result
{
  bool ok = false;
  std::string problem;
  Transform transform;
  double rms = 0.0;    ///< RMS distance of the kept (inlier) pairs, mm
  double rmsAll = 0.0; ///< RMS distance of all samples to the target, mm
  double inlierFraction = 0.0;
  int iterations = 0;
  bool settled = false;         ///< false: stopped at maximumIterations still moving
  std::string initialAlignment; ///< which start won
};

/// Points spread uniformly by area over the surface (deterministic): each triangle gets its share
/// of `count` on a regular pattern of barycentric positions.
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<Vec3> sampleSurface(const remesh::TriangleMesh& mesh,
  std::size_t count);

/// Registers `moving` onto `target`. `progress` (may be empty) receives fractions in [0, 1].
IMPLANTBONECONTACTFILTERS_EXPORT Result registerSurfaces(const remesh::TriangleMesh& moving,
  const remesh::TriangleMesh& target,
  const Options& options,
  const std::function<void(double)>& progress = {});

/// Why `moving` cannot be registered onto `target`, or "" when it can: a surface without
/// triangles, points that are not finite, or sizes that differ by units (more than 20 times,
/// unless scaling is allowed). `targetIsCT`: the target was extracted from a CT.
IMPLANTBONECONTACTFILTERS_EXPORT std::string inputProblem(const remesh::TriangleMesh& moving,
  const remesh::TriangleMesh& target,
  bool targetIsCT,
  bool allowScaling);

/// The mesh in a canonical point and triangle order (duplicates of an STL, or of the cuts
/// between MPI pieces, merged), so that the same surface gives the same samples however it
/// arrived; left as it is where the repair refuses it.
IMPLANTBONECONTACTFILTERS_EXPORT void putInCanonicalOrder(remesh::TriangleMesh& mesh);

/// The transform whose matrix() is `matrix` (row-major 4x4; the scale from its determinant).
IMPLANTBONECONTACTFILTERS_EXPORT Transform transformFromMatrix(const double matrix[16]);

/// Whether a rotation negates x and y (a half turn about z): the mark of a surface in RAS
/// coordinates (3D Slicer) registered onto a CT in LPS, or the reverse.
IMPLANTBONECONTACTFILTERS_EXPORT bool isHalfTurnAboutZ(const Rotation& rotation);

} // namespace registration
} // namespace ibc

#endif
