// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of CT reading: volumes written with ITK/GDCM with a known oblique geometry and
// known HU, read back; every voxel's value and physical position must be exact.
#include "ibcCTVolumeIO.h"
#include "ibcTestVolumes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace ibc;

namespace
{
/// One folder of test volumes for the whole test program.
const std::string& testFolder()
{
  static const std::string folder = []
  {
    char pattern[] = "/tmp/ibcCTVolumeIO.XXXXXX";
    const char* made = mkdtemp(pattern);
    std::string path = made ? made : "/tmp/ibcCTVolumeIO";
    std::string error;
    if (!testvolumes::writeAll(path, error))
    {
      ADD_FAILURE() << error;
    }
    return path;
  }();
  return folder;
}

/// Removes the test volumes when the test program ends.
class RemoveTestFolder : public ::testing::Environment
{
public:
  void TearDown() override { std::system(("rm -rf " + testFolder()).c_str()); }
};
const ::testing::Environment* const removeTestFolder =
  ::testing::AddGlobalTestEnvironment(new RemoveTestFolder);

/// The writer's index of a physical point (inverse of the written geometry).
Vec3 writerIndex(const Vec3& point)
{
  const testvolumes::WrittenGeometry written = testvolumes::writtenGeometry();
  const Vec3 offset = point - Vec3{ written.origin[0], written.origin[1], written.origin[2] };
  // The direction matrix is a rotation (possibly with a reflection): its inverse is its
  // transpose.
  double index[3];
  for (int column = 0; column < 3; ++column)
  {
    const Vec3 axis{
      written.direction[column], written.direction[3 + column], written.direction[6 + column]
    };
    index[column] = dot(offset, axis) / written.spacing[column];
  }
  return { index[0], index[1], index[2] };
}

/// Reads the whole volume and checks every voxel against the written one at the same
/// physical position. Returns the number of voxels checked.
template<typename Value>
long checkEveryVoxel(const ct::VolumeFile& volume, bool integralHU)
{
  const ct::Geometry& geometry = volume.geometry();
  const int extent[6] = {
    0, geometry.dimensions[0] - 1, 0, geometry.dimensions[1] - 1, 0, geometry.dimensions[2] - 1
  };
  std::vector<Value> values(static_cast<std::size_t>(geometry.dimensions[0]) *
    geometry.dimensions[1] * geometry.dimensions[2]);
  std::string error;
  EXPECT_TRUE(volume.read(extent, values.data(), error)) << error;
  long checked = 0;
  double worstIndexError = 0.0;
  long wrongValues = 0;
  std::size_t at = 0;
  for (int k = 0; k < geometry.dimensions[2]; ++k)
  {
    for (int j = 0; j < geometry.dimensions[1]; ++j)
    {
      for (int i = 0; i < geometry.dimensions[0]; ++i, ++at)
      {
        const Vec3 index = writerIndex(geometry.physicalPoint(i, j, k));
        const int wi = static_cast<int>(std::lround(index.x));
        const int wj = static_cast<int>(std::lround(index.y));
        const int wk = static_cast<int>(std::lround(index.z));
        worstIndexError = std::max({ worstIndexError,
          std::abs(index.x - wi),
          std::abs(index.y - wj),
          std::abs(index.z - wk) });
        if (static_cast<double>(values[at]) != testvolumes::huAt(wi, wj, wk, integralHU))
        {
          ++wrongValues;
        }
        ++checked;
      }
    }
  }
  // DICOM stores positions and orientations as decimal strings of at most 16 characters.
  EXPECT_LT(worstIndexError, 1e-4);
  EXPECT_EQ(wrongValues, 0);
  return checked;
}
}

TEST(CTVolumeIO, DicomSeriesGivesHUAndPositionOfEveryVoxel)
{
  ct::VolumeFile volume;
  std::string error;
  ASSERT_TRUE(volume.open(testFolder() + "/dicom", "", error)) << error;
  EXPECT_EQ(volume.format(), ct::FileFormat::DicomSeries);
  const testvolumes::WrittenGeometry written = testvolumes::writtenGeometry();
  EXPECT_EQ(volume.geometry().dimensions, written.dimensions);
  // Slope 0.5 gives half HU: the output must be floating point.
  EXPECT_TRUE(volume.needsFloat());
  // The files were written against the slice normal: the reader's slice axis is reversed,
  // and the volume starts at the writer's last slice.
  const Vec3 lastSlice = Vec3{ written.origin[0], written.origin[1], written.origin[2] } +
    (written.spacing[2] * (written.dimensions[2] - 1)) *
      Vec3{ written.direction[2], written.direction[5], written.direction[8] };
  EXPECT_LT(length(volume.geometry().origin - lastSlice), 1e-4);
  EXPECT_NEAR(volume.geometry().spacing.z, written.spacing[2], 1e-6);
  EXPECT_EQ(checkEveryVoxel<float>(volume, false), 23L * 19 * 11);
}

TEST(CTVolumeIO, OpeningAnyFileOfTheSeriesReadsTheSeries)
{
  ct::VolumeFile volume;
  std::string error;
  ASSERT_TRUE(volume.open(testFolder() + "/dicom/IM0003", "", error)) << error;
  EXPECT_EQ(volume.geometry().dimensions[2], 11);
}

TEST(CTVolumeIO, NestedExportFoldersAreSearched)
{
  // An export that nests the series below the folder the user picks.
  const std::string top = testFolder() + "/export";
  const std::string nested = top + "/PA000000/ST000000";
  ASSERT_EQ(std::system((
              "mkdir -p " + nested + " && cp -r " + testFolder() + "/dicom " + nested + "/SE000000")
                          .c_str()),
    0);
  ct::VolumeFile volume;
  std::string error;
  ASSERT_TRUE(volume.open(top, "", error)) << error;
  EXPECT_EQ(volume.geometry().dimensions[2], 11);
  EXPECT_EQ(checkEveryVoxel<float>(volume, false), 23L * 19 * 11);
}

TEST(CTVolumeIO, SeveralSeriesInOneFolder)
{
  ct::VolumeFile volume;
  std::string error;
  ASSERT_TRUE(volume.open(testFolder() + "/dicom", "", error)) << error;
  ASSERT_EQ(volume.series().size(), 2u);
  EXPECT_EQ(volume.series()[0].uid, "1.2.826.0.1.3680043.9.7133.1.2");
  ASSERT_FALSE(volume.warnings().empty());
  EXPECT_NE(volume.warnings()[0].find("Scout"), std::string::npos) << volume.warnings()[0];

  ct::VolumeFile scout;
  ASSERT_TRUE(scout.open(testFolder() + "/dicom", "1.2.826.0.1.3680043.9.7133.1.3", error))
    << error;
  EXPECT_EQ(scout.geometry().dimensions, (std::array<int, 3>{ { 8, 8, 3 } }));
  EXPECT_NEAR(scout.geometry().spacing.z, 5.0, 1e-9);
  ct::VolumeFile byLabel;
  ASSERT_TRUE(byLabel.open(testFolder() + "/dicom", scout.series()[1].label, error)) << error;
  EXPECT_EQ(byLabel.geometry().dimensions[2], 3);

  ct::VolumeFile missing;
  EXPECT_FALSE(missing.open(testFolder() + "/dicom", "1.2.3.4", error));
  EXPECT_NE(error.find("Oblique CT"), std::string::npos) << error;
}

TEST(CTVolumeIO, FileFormatsGiveHUAndPositionOfEveryVoxel)
{
  for (const char* name :
    { "ct.nrrd", "ct_raw.nrrd", "ct_raw.nhdr", "ct.nii.gz", "ct.nii", "ct.mha", "ct.mhd" })
  {
    SCOPED_TRACE(name);
    ct::VolumeFile volume;
    std::string error;
    ASSERT_TRUE(volume.open(testFolder() + "/" + name, "", error)) << error;
    EXPECT_FALSE(volume.needsFloat());
    EXPECT_EQ(volume.geometry().dimensions, testvolumes::writtenGeometry().dimensions);
    // Raw data are read a part at a time; gzip-compressed NRRD and NIfTI are decoded whole.
    const std::string file = name;
    const bool partial =
      file.find("raw") != std::string::npos || file.find(".mh") != std::string::npos;
    EXPECT_EQ(volume.readsSubExtentsOnly(), partial);
    EXPECT_EQ(checkEveryVoxel<short>(volume, true), 23L * 19 * 11);
  }
}

TEST(CTVolumeIO, SubExtentsEqualTheWholeVolume)
{
  for (const char* name : { "dicom", "ct.mha", "ct.nrrd", "ct_raw.nrrd", "ct_raw.nhdr", "ct.nii" })
  {
    SCOPED_TRACE(name);
    ct::VolumeFile volume;
    std::string error;
    ASSERT_TRUE(volume.open(testFolder() + "/" + name, "", error)) << error;
    const std::array<int, 3> size = volume.geometry().dimensions;
    const int whole[6] = { 0, size[0] - 1, 0, size[1] - 1, 0, size[2] - 1 };
    std::vector<float> all(static_cast<std::size_t>(size[0]) * size[1] * size[2]);
    ASSERT_TRUE(volume.read(whole, all.data(), error)) << error;
    const int box[6] = { 3, 17, 2, 9, 4, 8 };
    std::vector<float> part(15 * 8 * 5);
    ASSERT_TRUE(volume.read(box, part.data(), error)) << error;
    long mismatches = 0;
    std::size_t at = 0;
    for (int k = box[4]; k <= box[5]; ++k)
    {
      for (int j = box[2]; j <= box[3]; ++j)
      {
        for (int i = box[0]; i <= box[1]; ++i, ++at)
        {
          mismatches += part[at] != all[(static_cast<std::size_t>(k) * size[1] + j) * size[0] + i];
        }
      }
    }
    EXPECT_EQ(mismatches, 0);
  }
}

TEST(CTVolumeIO, LPSAndRASDifferBySignOfXAndY)
{
  ct::VolumeFile volume;
  std::string error;
  ASSERT_TRUE(volume.open(testFolder() + "/ct.mha", "", error)) << error;
  const ct::Geometry lps = volume.geometry();
  const ct::Geometry ras = ct::flipLPSRAS(lps);
  const Vec3 p = lps.physicalPoint(4, 5, 6);
  const Vec3 q = ras.physicalPoint(4, 5, 6);
  EXPECT_NEAR(q.x, -p.x, 1e-12);
  EXPECT_NEAR(q.y, -p.y, 1e-12);
  EXPECT_NEAR(q.z, p.z, 1e-12);
  const ct::Geometry back = ct::flipLPSRAS(ras);
  EXPECT_LT(length(back.physicalPoint(4, 5, 6) - p), 1e-12);
}

TEST(CTVolumeIO, BadInputGivesAMessage)
{
  std::string error;
  ct::VolumeFile volume;
  EXPECT_FALSE(volume.open("/nonexistent/ct.nrrd", "", error));
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
  EXPECT_FALSE(volume.open("", "", error));

  const std::string junk = testFolder() + "/junk.nii";
  std::ofstream(junk) << "this is not an image";
  EXPECT_FALSE(volume.open(junk, "", error));
  EXPECT_NE(error.find("junk.nii"), std::string::npos) << error;

  const std::string empty = testFolder() + "/empty";
  mkdir(empty.c_str(), 0755);
  EXPECT_FALSE(volume.open(empty, "", error));
  EXPECT_FALSE(error.empty());

  ASSERT_TRUE(volume.open(testFolder() + "/ct.mha", "", error)) << error;
  std::vector<float> values(8);
  const int outside[6] = { 0, 1, 0, 1, 10, 11 };
  EXPECT_FALSE(volume.read(outside, values.data(), error));
}
