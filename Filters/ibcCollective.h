// SPDX-License-Identifier: BSD-3-Clause
// Collective operations for the distributed filters, that also work without MPI (no controller
// or one process), and helpers for surfaces split over ranks.
#ifndef ibcCollective_h
#define ibcCollective_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "ibcVector.h"

#include <vtkType.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

class vtkMultiProcessController;

namespace ibc
{

/// Hash of exact coordinates: points split between surface pieces have identical coordinates.
struct CoordinateHash
{
  std::size_t operator()(const std::array<double, 3>& p) const
  {
    std::size_t h = 0;
    for (const double c : p)
    {
      std::uint64_t bits;
      std::memcpy(&bits, &c, sizeof(bits));
      h ^= std::hash<std::uint64_t>()(bits) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    }
    return h;
  }
};

class IMPLANTBONECONTACTFILTERS_EXPORT Collective
{
public:
  explicit Collective(vtkMultiProcessController* controller);
  int rank() const;
  int size() const;
  bool distributed() const { return this->Controller != nullptr; }
  vtkMultiProcessController* controller() const { return this->Controller; }

  void sum(double* values, int count) const;
  void sum(std::int64_t* values, int count) const;
  void maximum(double* values, int count) const;
  int minimum(int value) const;
  /// Every rank's `values`, concatenated in rank order; lengths receives each rank's count.
  std::vector<double> gather(const std::vector<double>& values,
    std::vector<vtkIdType>& lengths) const;
  /// Sends outgoing[r] to rank r; returns what the other ranks sent here, in rank order. The
  /// pairs exchange one after the other in the same order on every rank: no deadlock.
  std::vector<double> exchange(const std::vector<std::vector<double>>& outgoing) const;
  /// Every rank's `values` on rank 0 only (others get an empty vector), in rank order.
  std::vector<double> gatherToRoot(const std::vector<double>& values) const;

private:
  vtkMultiProcessController* Controller;
};

/// Every rank's triangle surface (points and triangles indexing them) concatenated on rank 0,
/// in rank order; other ranks get empty arrays. Without a controller the surface is returned.
IMPLANTBONECONTACTFILTERS_EXPORT void gatherSurfaceToRoot(const std::vector<Vec3>& points,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  const Collective& comm,
  std::vector<Vec3>& allPoints,
  std::vector<std::array<std::int64_t, 3>>& allTriangles);

/// Which of this rank's points it owns: a point repeated on several ranks (on the cut between
/// surface pieces, found by exact coordinates among the points flagged as candidates) belongs
/// to the lowest rank that has it, so that counts over points count it once.
IMPLANTBONECONTACTFILTERS_EXPORT std::vector<char> ownedPoints(const std::vector<Vec3>& points,
  const std::vector<char>& sharedCandidates,
  const Collective& comm);

} // namespace ibc

#endif
