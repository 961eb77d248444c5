// SPDX-License-Identifier: BSD-3-Clause
// Test volumes written with ITK/GDCM, with a known geometry and known HU at every voxel, to
// check that the CT Volume Reader gives every voxel its value and its physical position.
#ifndef ibcTestVolumes_h
#define ibcTestVolumes_h

#include <array>
#include <string>

namespace ibc
{
namespace testvolumes
{

/// The geometry every test volume is written with: an oblique orientation (rotated about
/// two axes) whose slice axis points against the normal of the DICOM rows and columns, so the
/// files of the series are stored in reverse slice order.
struct WrittenGeometry
{
  std::array<int, 3> dimensions{ { 23, 19, 11 } };
  std::array<double, 3> spacing{ { 0.75, 0.8, 1.25 } };
  std::array<double, 3> origin{ { -35.5, 12.25, 87.0 } };
  /// Row-major; columns are the index axes in LPS.
  std::array<double, 9> direction{};
};

WrittenGeometry writtenGeometry();

/// HU at writer index (i, j, k): multiples of 0.5 in [-1024, 3071], distinct enough that a
/// voxel read at the wrong index is caught. `integral` drops the half (for integer formats).
double huAt(int i, int j, int k, bool integral);

/// Writes into `folder` (created if needed):
///   dicom/       the CT series: uint16 stored, slope 0.5, intercept -1024, oblique, files
///                named in neither slice nor reverse order, plus a 3-slice "Scout" series;
///   ct.nrrd (gzip), ct_raw.nrrd and ct_raw.nhdr (+ raw data file), ct.nii.gz, ct.nii, ct.mha
///   (uncompressed), ct.mhd (+ raw): int16 HU (integral);
///   geometry.json: the written geometry and how HU are defined.
/// Returns false with a message on failure.
bool writeAll(const std::string& folder, std::string& error);

} // namespace testvolumes
} // namespace ibc

#endif
