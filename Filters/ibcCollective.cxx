// SPDX-License-Identifier: BSD-3-Clause
#include "ibcCollective.h"

#include <vtkCommunicator.h>
#include <vtkMultiProcessController.h>

#include <algorithm>
#include <unordered_map>

namespace ibc
{

Collective::Collective(vtkMultiProcessController* controller)
  : Controller(controller && controller->GetNumberOfProcesses() > 1 ? controller : nullptr)
{
}

int Collective::rank() const
{
  return this->Controller ? this->Controller->GetLocalProcessId() : 0;
}

int Collective::size() const
{
  return this->Controller ? this->Controller->GetNumberOfProcesses() : 1;
}

void Collective::sum(double* values, int count) const
{
  if (this->Controller)
  {
    std::vector<double> local(values, values + count);
    this->Controller->AllReduce(local.data(), values, count, vtkCommunicator::SUM_OP);
  }
}

void Collective::sum(std::int64_t* values, int count) const
{
  if (this->Controller)
  {
    std::vector<vtkTypeInt64> local(values, values + count);
    std::vector<vtkTypeInt64> global(count);
    this->Controller->AllReduce(local.data(), global.data(), count, vtkCommunicator::SUM_OP);
    std::copy(global.begin(), global.end(), values);
  }
}

void Collective::maximum(double* values, int count) const
{
  if (this->Controller)
  {
    std::vector<double> local(values, values + count);
    this->Controller->AllReduce(local.data(), values, count, vtkCommunicator::MAX_OP);
  }
}

int Collective::minimum(int value) const
{
  if (!this->Controller)
  {
    return value;
  }
  int result = value;
  this->Controller->AllReduce(&value, &result, 1, vtkCommunicator::MIN_OP);
  return result;
}

std::vector<double> Collective::gather(const std::vector<double>& values,
  std::vector<vtkIdType>& lengths) const
{
  lengths.assign(this->size(), static_cast<vtkIdType>(values.size()));
  if (!this->Controller)
  {
    return values;
  }
  vtkIdType length = static_cast<vtkIdType>(values.size());
  this->Controller->AllGather(&length, lengths.data(), 1);
  std::vector<vtkIdType> offsets(lengths.size(), 0);
  for (std::size_t r = 1; r < lengths.size(); ++r)
  {
    offsets[r] = offsets[r - 1] + lengths[r - 1];
  }
  std::vector<double> all(static_cast<std::size_t>(offsets.back() + lengths.back()));
  this->Controller->AllGatherV(values.data(), all.data(), length, lengths.data(), offsets.data());
  return all;
}

std::vector<double> Collective::gatherToRoot(const std::vector<double>& values) const
{
  if (!this->Controller)
  {
    return values;
  }
  vtkIdType length = static_cast<vtkIdType>(values.size());
  std::vector<vtkIdType> lengths(this->size(), 0);
  this->Controller->Gather(&length, lengths.data(), 1, 0);
  std::vector<vtkIdType> offsets(lengths.size(), 0);
  for (std::size_t r = 1; r < lengths.size(); ++r)
  {
    offsets[r] = offsets[r - 1] + lengths[r - 1];
  }
  std::vector<double> all;
  if (this->rank() == 0)
  {
    all.resize(static_cast<std::size_t>(offsets.back() + lengths.back()));
  }
  this->Controller->GatherV(values.data(), all.data(), length, lengths.data(), offsets.data(), 0);
  return all;
}

std::vector<double> Collective::exchange(const std::vector<std::vector<double>>& outgoing) const
{
  std::vector<double> incoming;
  if (!this->Controller)
  {
    return incoming;
  }
  const int size = this->size();
  const int rank = this->rank();
  std::vector<double> myCounts(size, 0.0);
  for (int r = 0; r < size && r < static_cast<int>(outgoing.size()); ++r)
  {
    myCounts[r] = static_cast<double>(outgoing[r].size());
  }
  std::vector<vtkIdType> lengths;
  const std::vector<double> counts = this->gather(myCounts, lengths);
  constexpr int tag = 98620;
  for (int from = 0; from < size; ++from)
  {
    for (int to = 0; to < size; ++to)
    {
      const auto count = static_cast<vtkIdType>(counts[static_cast<std::size_t>(from) * size + to]);
      if (from == to || count == 0)
      {
        continue;
      }
      if (rank == from)
      {
        this->Controller->Send(outgoing[to].data(), count, to, tag);
      }
      else if (rank == to)
      {
        const std::size_t offset = incoming.size();
        incoming.resize(offset + static_cast<std::size_t>(count));
        this->Controller->Receive(incoming.data() + offset, count, from, tag);
      }
    }
  }
  return incoming;
}

std::vector<char> ownedPoints(const std::vector<Vec3>& points,
  const std::vector<char>& sharedCandidates,
  const Collective& comm)
{
  std::vector<char> owned(points.size(), 1);
  if (!comm.distributed())
  {
    return owned;
  }
  std::vector<double> mine;
  std::unordered_map<std::array<double, 3>, std::size_t, CoordinateHash> candidates;
  for (std::size_t i = 0; i < points.size(); ++i)
  {
    if (sharedCandidates[i])
    {
      mine.insert(mine.end(), { points[i].x, points[i].y, points[i].z });
      candidates.emplace(std::array<double, 3>{ points[i].x, points[i].y, points[i].z }, i);
    }
  }
  std::vector<vtkIdType> lengths;
  const std::vector<double> all = comm.gather(mine, lengths);
  std::size_t offset = 0;
  for (int r = 0; r < comm.rank(); ++r) // only lower ranks take a point away
  {
    for (std::size_t i = offset; i < offset + static_cast<std::size_t>(lengths[r]); i += 3)
    {
      const auto found = candidates.find({ all[i], all[i + 1], all[i + 2] });
      if (found != candidates.end())
      {
        owned[found->second] = 0;
      }
    }
    offset += static_cast<std::size_t>(lengths[r]);
  }
  return owned;
}

void gatherSurfaceToRoot(const std::vector<Vec3>& points,
  const std::vector<std::array<std::int64_t, 3>>& triangles,
  const Collective& comm,
  std::vector<Vec3>& allPoints,
  std::vector<std::array<std::int64_t, 3>>& allTriangles)
{
  if (!comm.distributed())
  {
    allPoints = points;
    allTriangles = triangles;
    return;
  }
  std::vector<double> packed;
  packed.push_back(static_cast<double>(points.size()));
  for (const Vec3& p : points)
  {
    packed.insert(packed.end(), { p.x, p.y, p.z });
  }
  for (const auto& t : triangles)
  {
    packed.insert(packed.end(),
      { static_cast<double>(t[0]), static_cast<double>(t[1]), static_cast<double>(t[2]) });
  }
  std::vector<vtkIdType> lengths;
  const std::vector<double> all = comm.gather(packed, lengths);
  allPoints.clear();
  allTriangles.clear();
  if (comm.rank() != 0)
  {
    return;
  }
  std::size_t offset = 0;
  for (const vtkIdType length : lengths)
  {
    const auto pointCount = static_cast<std::size_t>(all[offset]);
    const auto base = static_cast<std::int64_t>(allPoints.size());
    for (std::size_t i = 0; i < pointCount; ++i)
    {
      const double* p = all.data() + offset + 1 + 3 * i;
      allPoints.push_back({ p[0], p[1], p[2] });
    }
    for (std::size_t i = offset + 1 + 3 * pointCount; i < offset + static_cast<std::size_t>(length);
         i += 3)
    {
      allTriangles.push_back({ base + static_cast<std::int64_t>(all[i]),
        base + static_cast<std::int64_t>(all[i + 1]),
        base + static_cast<std::int64_t>(all[i + 2]) });
    }
    offset += static_cast<std::size_t>(length);
  }
}
} // namespace ibc
