// SPDX-License-Identifier: BSD-3-Clause
/**
 * Reading CT volumes with ITK (and GDCM for DICOM) into plain buffers, without the VTK pipeline.
 *
 * A VolumeFile opens a DICOM series (a folder, or any file of the series), a NRRD/NHDR, NIfTI
 * or MetaImage file, reads only the headers, and then reads any sub-extent on demand. Values
 * come out in HU (DICOM rescale slope/intercept and NIfTI scl_slope/scl_inter applied by ITK);
 * the geometry is ITK's: LPS millimetres, direction columns = the index axes.
 *
 * DICOM series are scanned with gdcm::Scanner (headers only), split by Series Instance UID,
 * orientation and matrix size, and the slices sorted by their position along the slice normal.
 * File order, instance numbers and the sign of the slice direction therefore do not matter.
 * Reading a sub-extent of a series reads only the files of its slices.
 */
#ifndef ibcCTVolumeIO_h
#define ibcCTVolumeIO_h

#include "ibcVector.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ibc
{
namespace ct
{

enum class FileFormat
{
  Unknown,
  DicomSeries,
  DicomFile, // one multi-frame DICOM file read as a volume
  Nrrd,
  Nifti,
  MetaImage
};

/// Which format a path is, from the file name (a folder is a DICOM series).
FileFormat formatOf(const std::string& path);
const char* formatName(FileFormat format);

/// Image geometry in LPS millimetres. Physical point of index (i, j, k):
/// origin + direction * (i * spacing[0], j * spacing[1], k * spacing[2]).
struct Geometry
{
  std::array<int, 3> dimensions{ { 0, 0, 0 } };
  Vec3 spacing{ 1.0, 1.0, 1.0 };
  Vec3 origin{ 0.0, 0.0, 0.0 };
  /// Row-major 3x3: direction[3 * row + column]; column c is index axis c in LPS.
  std::array<double, 9> direction{ { 1, 0, 0, 0, 1, 0, 0, 0, 1 } };

  Vec3 axis(int column) const;
  Vec3 physicalPoint(double i, double j, double k) const;
};

/// Convert a geometry between LPS and RAS (x and y negated). Its own inverse.
Geometry flipLPSRAS(const Geometry& geometry);

/// One series found in a DICOM folder.
struct DicomSeries
{
  std::string uid;                  // Series Instance UID
  std::string description;          // Series Description (may be empty)
  std::string label;                // what the user sees: "description (N slices) uid"
  std::vector<std::string> files;   // sorted along the slice normal
  std::vector<double> sliceOffsets; // position of each file along the normal (mm)
};

/// Scan a folder for DICOM image series (its sub-folders too when it holds none itself, as
/// exports nest them). Files that are not DICOM are skipped, and so are DICOM objects that are
/// no volume slices (RT Dose and Plan, structure sets, reports, secondary captures: listed in
/// `skipped`). Series are split when orientation or matrix size differ inside one Series
/// Instance UID.
std::vector<DicomSeries> scanDicomFolder(const std::string& folder,
  std::string& error,
  std::vector<std::string>* skipped = nullptr);

class VolumeFile
{
public:
  /// Opens `path` and reads the headers. For DICOM, `series` selects a series by UID or label;
  /// empty selects the series with the most slices (a warning lists the others).
  bool open(const std::string& path, const std::string& series, std::string& error);

  FileFormat format() const { return this->Format; }
  const Geometry& geometry() const { return this->ImageGeometry; }
  /// True when HU need fractions or exceed int16 (output float); false for int16 output.
  bool needsFloat() const { return this->FloatValues; }
  const std::vector<DicomSeries>& series() const { return this->Series; }
  /// Index into series() of the series read, or -1 for file formats.
  int selectedSeries() const { return this->SelectedSeries; }
  /// Things the user should know (uneven slices, gantry tilt, several series).
  const std::vector<std::string>& warnings() const { return this->Warnings; }

  /// Reads the voxels of the inclusive index extent [i0 i1 j0 j1 k0 k1] (x fastest) in HU.
  /// `progress` (may be null) is called with a fraction in [0, 1].
  bool read(const int extent[6],
    float* values,
    std::string& error,
    void (*progress)(void*, double) = nullptr,
    void* progressData = nullptr) const;
  bool read(const int extent[6],
    short* values,
    std::string& error,
    void (*progress)(void*, double) = nullptr,
    void* progressData = nullptr) const;

  /// Whether read() of a sub-extent touches only that part of the file (DICOM slices,
  /// uncompressed MetaImage, raw NRRD). Otherwise the whole file is decoded and cropped.
  bool readsSubExtentsOnly() const { return this->Streams; }

private:
  template<typename Out>
  bool readAny(const int extent[6],
    Out* values,
    std::string& error,
    void (*progress)(void*, double),
    void* progressData) const;
  /// The series in `folder` (and, with searchBelow, in its sub-folders when it holds none) into
  /// Series, and which one to read: the wanted one, else the one that holds `slice` if given,
  /// else the largest. Notes what was left out or chosen in Warnings.
  bool findSeries(const std::string& folder,
    const std::string& series,
    bool searchBelow,
    const std::string& slice,
    std::string& error);
  /// Opens the series findSeries chooses: its geometry and value type.
  bool openDicomSeries(const std::string& folder,
    const std::string& series,
    bool searchBelow,
    const std::string& slice,
    std::string& error);
  bool openFile(const std::string& path, FileFormat format, std::string& error);

  /// Where the voxels of a raw (uncompressed) NRRD lie, so a sub-extent is read directly.
  struct RawLayout
  {
    bool usable = false;
    std::string dataFile;
    std::int64_t offset = 0; ///< bytes before the first voxel
    int componentBytes = 0;
    bool isFloat = false;
    bool isSigned = false;
    bool swapBytes = false;
  };
  static RawLayout rawNrrdLayout(const std::string& path, const Geometry& geometry);
  template<typename Out>
  bool readRaw(const int extent[6], Out* values, std::string& error) const;

  std::string Path;
  FileFormat Format = FileFormat::Unknown;
  RawLayout Raw;
  Geometry ImageGeometry;
  bool FloatValues = false;
  bool Streams = false;
  std::vector<DicomSeries> Series;
  int SelectedSeries = -1;
  std::vector<std::string> Warnings;
};

} // namespace ct
} // namespace ibc

#endif
