// SPDX-License-Identifier: BSD-3-Clause
#include "ibcCTVolumeIO.h"

#include "itkGDCMImageIO.h"
#include "itkImageIOBase.h"
#include "itkMetaImageIO.h"
#include "itkNiftiImageIO.h"
#include "itkNrrdImageIO.h"

#include "gdcmAttribute.h"
#include "gdcmDirectory.h"
#include "gdcmReader.h"
#include "gdcmScanner.h"
#include "gdcmTrace.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <sys/stat.h>
#include <zlib.h>

namespace ibc
{
namespace ct
{
namespace
{

std::string lowercase(std::string text)
{
  std::transform(text.begin(),
    text.end(),
    text.begin(),
    [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool endsWith(const std::string& text, const std::string& suffix)
{
  return text.size() >= suffix.size() &&
    text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isDirectory(const std::string& path)
{
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool exists(const std::string& path)
{
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

std::string parentFolder(const std::string& path)
{
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

/// The same file, however the two paths spell it.
bool sameFile(const std::string& a, const std::string& b)
{
  struct stat first;
  struct stat second;
  return stat(a.c_str(), &first) == 0 && stat(b.c_str(), &second) == 0 &&
    first.st_dev == second.st_dev && first.st_ino == second.st_ino;
}

/// Whether a file is DICOM by its content: the "DICM" mark after the 128-byte preamble, or
/// (old files without it) what GDCM makes of its header.
bool isDicomFile(const std::string& path)
{
  std::ifstream file(path, std::ios::binary);
  char head[132] = {};
  if (file.read(head, sizeof(head)) && std::memcmp(head + 128, "DICM", 4) == 0)
  {
    return true;
  }
  itk::GDCMImageIO::Pointer io = itk::GDCMImageIO::New();
  return io->CanReadFile(path.c_str());
}

std::string trimmed(const char* value)
{
  std::string text = value ? value : "";
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  const std::size_t last = text.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

std::int64_t fileSize(const std::string& path)
{
  struct stat info;
  return stat(path.c_str(), &info) == 0 ? static_cast<std::int64_t>(info.st_size) : -1;
}

/// An unsigned value of a DICOM header element, or `fallback` when it is absent.
std::int64_t headerNumber(const gdcm::DataSet& header, const gdcm::Tag& tag, std::int64_t fallback)
{
  if (!header.FindDataElement(tag))
  {
    return fallback;
  }
  const gdcm::DataElement& element = header.GetDataElement(tag);
  const gdcm::ByteValue* bytes = element.GetByteValue();
  if (!bytes || bytes->GetLength() == 0)
  {
    return fallback;
  }
  if (tag == gdcm::Tag(0x0028, 0x0008))
  {
    // Number of Frames is text (IS).
    const std::string text(bytes->GetPointer(), bytes->GetLength());
    return std::atoll(text.c_str());
  }
  std::uint16_t value = 0;
  std::memcpy(&value, bytes->GetPointer(), std::min<std::size_t>(2, bytes->GetLength()));
  return value;
}

/// Empty, or what is missing from a DICOM image file whose pixel data is cut short: the file
/// ends before the rows x columns x frames it announces. Compressed pixel data is left to its
/// decoder, which fails on a cut stream.
std::string truncatedDicomFile(const std::string& path)
{
  gdcm::Reader reader;
  reader.SetFileName(path.c_str());
  const gdcm::Tag pixelData(0x7fe0, 0x0010);
  // Skipping the pixel data's value leaves the stream just past its element header.
  if (!reader.ReadUpToTag(pixelData, { pixelData }))
  {
    return "";
  }
  const gdcm::TransferSyntax& syntax = reader.GetFile().GetHeader().GetDataSetTransferSyntax();
  if (syntax.IsEncapsulated())
  {
    return "";
  }
  const gdcm::DataSet& header = reader.GetFile().GetDataSet();
  const std::int64_t rows = headerNumber(header, gdcm::Tag(0x0028, 0x0010), 0);
  const std::int64_t columns = headerNumber(header, gdcm::Tag(0x0028, 0x0011), 0);
  const std::int64_t bits = headerNumber(header, gdcm::Tag(0x0028, 0x0100), 16);
  const std::int64_t samples = headerNumber(header, gdcm::Tag(0x0028, 0x0002), 1);
  const std::int64_t frames = std::max<std::int64_t>(1, headerNumber(header, gdcm::Tag(0x0028, 0x0008), 1));
  const std::int64_t expected = (rows * columns * samples * frames * bits + 7) / 8;
  const std::int64_t present =
    fileSize(path) - static_cast<std::int64_t>(reader.GetStreamCurrentPosition());
  if (expected <= 0 || present >= expected)
  {
    return "";
  }
  return "'" + path + "' is cut short: its pixel data holds " + std::to_string(std::max<std::int64_t>(0, present)) +
    " of the " + std::to_string(expected) + " bytes its header announces";
}

/// Empty, or which slice of a series is cut short, and how.
std::string truncatedSlice(const DicomSeries& series)
{
  for (std::size_t k = 0; k < series.files.size(); ++k)
  {
    const std::string truncation = truncatedDicomFile(series.files[k]);
    if (!truncation.empty())
    {
      return "slice " + std::to_string(k + 1) + " of " + std::to_string(series.files.size()) +
        " of series [" + series.label + "]: " + truncation;
    }
  }
  return "";
}

/// Empty, or what is missing from an uncompressed MetaImage's data (the .mha after its header,
/// or the file a .mhd names).
std::string truncatedMetaImage(const std::string& path, std::int64_t expected)
{
  std::ifstream header(path, std::ios::binary);
  std::string line;
  std::string dataFile;
  bool compressed = false;
  std::int64_t headerSize = 0;
  while (std::getline(header, line))
  {
    const std::size_t equals = line.find('=');
    const std::string key = trimmed(line.substr(0, equals).c_str());
    const std::string value = equals == std::string::npos ? "" : trimmed(line.substr(equals + 1).c_str());
    if (key == "CompressedData")
    {
      compressed = lowercase(value) == "true";
    }
    else if (key == "HeaderSize")
    {
      headerSize = std::atoll(value.c_str());
    }
    else if (key == "ElementDataFile")
    {
      dataFile = value;
      break;
    }
  }
  if (compressed || dataFile.empty() || headerSize < 0)
  {
    return "";
  }
  std::int64_t present = 0;
  std::string where = path;
  if (dataFile == "LOCAL")
  {
    present = fileSize(path) - static_cast<std::int64_t>(header.tellg()) - headerSize;
  }
  else if (dataFile.find('%') == std::string::npos && lowercase(dataFile) != "list")
  {
    where = dataFile[0] == '/' ? dataFile : parentFolder(path) + "/" + dataFile;
    present = fileSize(where) - headerSize;
  }
  else
  {
    return ""; // a list of slice files: ITK reports a missing one itself
  }
  if (present >= expected)
  {
    return "";
  }
  return "'" + where + "' is cut short: it holds " + std::to_string(std::max<std::int64_t>(0, present)) +
    " of the " + std::to_string(expected) + " bytes of voxel data its header announces";
}

/// Empty, or what is missing from a NIfTI-1 file's voxel data (.nii, .nii.gz, or the .img of a
/// .hdr pair), from the dimensions and bits per voxel its header gives: the file is read through
/// (a gzip stream has to be decoded to be measured).
std::string truncatedNifti(const std::string& path)
{
  const std::string name = lowercase(path);
  std::string dataPath = path;
  for (const std::string suffix : { ".hdr", ".hdr.gz" })
  {
    if (endsWith(name, suffix))
    {
      dataPath = path.substr(0, path.size() - suffix.size()) + (suffix == ".hdr" ? ".img" : ".img.gz");
    }
  }
  const bool pair = dataPath != path;
  char header[348] = {};
  gzFile headerFile = gzopen(path.c_str(), "rb");
  if (!headerFile)
  {
    return "";
  }
  const int headerBytes = gzread(headerFile, header, sizeof(header));
  gzclose(headerFile);
  std::int32_t headerSize = 0;
  std::memcpy(&headerSize, header, 4);
  if (headerBytes != static_cast<int>(sizeof(header)) || headerSize != 348)
  {
    return ""; // NIfTI-2 or another byte order: left to ITK
  }
  std::int16_t dims[8];
  std::int16_t bitsPerVoxel = 0;
  float voxelOffset = 0.0f;
  std::memcpy(dims, header + 40, sizeof(dims));
  std::memcpy(&bitsPerVoxel, header + 72, 2);
  std::memcpy(&voxelOffset, header + 108, 4);
  std::int64_t expected = bitsPerVoxel;
  for (int axis = 1; axis <= std::clamp<int>(dims[0], 1, 7); ++axis)
  {
    expected *= std::max<std::int64_t>(1, dims[axis]);
  }
  expected = (expected + 7) / 8 + (pair ? 0 : static_cast<std::int64_t>(voxelOffset));
  gzFile file = gzopen(dataPath.c_str(), "rb");
  if (!file)
  {
    return "";
  }
  std::int64_t total = 0;
  std::vector<char> buffer(1 << 20);
  for (int got = 0; (got = gzread(file, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0;)
  {
    total += got;
  }
  int status = Z_OK;
  gzerror(file, &status);
  gzclose(file);
  if (status == Z_OK && total >= expected)
  {
    return "";
  }
  return "'" + dataPath + "' is cut short: it holds " + std::to_string(total) + " of the " +
    std::to_string(expected) + " bytes its header announces";
}


/// DICOM multi-valued decimal strings ("a\b\c").
std::vector<double> decimals(const char* value)
{
  std::vector<double> numbers;
  std::stringstream stream(trimmed(value));
  std::string item;
  while (std::getline(stream, item, '\\'))
  {
    try
    {
      numbers.push_back(std::stod(item));
    }
    catch (...)
    {
      return {};
    }
  }
  return numbers;
}

double decimalOr(const char* value, double fallback)
{
  const std::vector<double> numbers = decimals(value);
  return numbers.empty() ? fallback : numbers[0];
}

bool componentNeedsFloat(itk::IOComponentEnum type)
{
  using C = itk::IOComponentEnum;
  return !(type == C::CHAR || type == C::UCHAR || type == C::SHORT);
}

itk::ImageIOBase::Pointer makeImageIO(FileFormat format)
{
  switch (format)
  {
    case FileFormat::Nrrd:
      return itk::NrrdImageIO::New().GetPointer();
    case FileFormat::Nifti:
      return itk::NiftiImageIO::New().GetPointer();
    case FileFormat::MetaImage:
      return itk::MetaImageIO::New().GetPointer();
    case FileFormat::DicomFile:
    case FileFormat::DicomSeries:
      return itk::GDCMImageIO::New().GetPointer();
    default:
      return nullptr;
  }
}

/// Copies a box out of a decoded buffer of any ITK component type into `out`, converting.
/// `source` has dimensions sourceSize (x fastest); the box starts at sourceStart and has
/// boxSize; `out` is written with the row stride of the box.
template<typename In, typename Out>
void copyBox(const In* source,
  const int sourceSize[3],
  const int sourceStart[3],
  const int boxSize[3],
  Out* out)
{
  for (int k = 0; k < boxSize[2]; ++k)
  {
    for (int j = 0; j < boxSize[1]; ++j)
    {
      const std::size_t from = (static_cast<std::size_t>(sourceStart[2] + k) * sourceSize[1] +
                                 static_cast<std::size_t>(sourceStart[1] + j)) *
          sourceSize[0] +
        static_cast<std::size_t>(sourceStart[0]);
      Out* row = out + (static_cast<std::size_t>(k) * boxSize[1] + j) * boxSize[0];
      for (int i = 0; i < boxSize[0]; ++i)
      {
        row[i] = static_cast<Out>(source[from + i]);
      }
    }
  }
}

template<typename Out>
bool copyBoxAnyType(itk::IOComponentEnum type,
  const void* source,
  const int sourceSize[3],
  const int sourceStart[3],
  const int boxSize[3],
  Out* out)
{
  using C = itk::IOComponentEnum;
  switch (type)
  {
    case C::UCHAR:
      copyBox(static_cast<const unsigned char*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::CHAR:
      copyBox(static_cast<const signed char*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::USHORT:
      copyBox(static_cast<const unsigned short*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::SHORT:
      copyBox(static_cast<const short*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::UINT:
      copyBox(static_cast<const unsigned int*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::INT:
      copyBox(static_cast<const int*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::ULONG:
      copyBox(static_cast<const unsigned long*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::LONG:
      copyBox(static_cast<const long*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::ULONGLONG:
      copyBox(
        static_cast<const unsigned long long*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::LONGLONG:
      copyBox(static_cast<const long long*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::FLOAT:
      copyBox(static_cast<const float*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    case C::DOUBLE:
      copyBox(static_cast<const double*>(source), sourceSize, sourceStart, boxSize, out);
      return true;
    default:
      return false;
  }
}

/// Reads the image information of `path`; ITK exceptions become an error message.
bool readInformation(itk::ImageIOBase* io, const std::string& path, std::string& error)
{
  try
  {
    io->SetFileName(path);
    io->ReadImageInformation();
  }
  catch (const itk::ExceptionObject& exception)
  {
    error = "cannot read the header of '" + path + "': " + exception.GetDescription();
    return false;
  }
  return true;
}

} // namespace

FileFormat formatOf(const std::string& path)
{
  if (isDirectory(path))
  {
    return FileFormat::DicomSeries;
  }
  const std::string name = lowercase(path);
  if (endsWith(name, ".nrrd") || endsWith(name, ".nhdr"))
  {
    return FileFormat::Nrrd;
  }
  if (endsWith(name, ".nii") || endsWith(name, ".nii.gz") || endsWith(name, ".hdr") ||
    endsWith(name, ".img") || endsWith(name, ".img.gz"))
  {
    return FileFormat::Nifti;
  }
  if (endsWith(name, ".mha") || endsWith(name, ".mhd"))
  {
    return FileFormat::MetaImage;
  }
  // DICOM files often have no extension at all: anything else is tried as DICOM.
  return FileFormat::DicomSeries;
}

const char* formatName(FileFormat format)
{
  switch (format)
  {
    case FileFormat::DicomSeries:
      return "DICOM series";
    case FileFormat::DicomFile:
      return "DICOM multi-frame file";
    case FileFormat::Nrrd:
      return "NRRD";
    case FileFormat::Nifti:
      return "NIfTI";
    case FileFormat::MetaImage:
      return "MetaImage";
    default:
      return "unknown";
  }
}

Vec3 Geometry::axis(int column) const
{
  return { this->direction[column], this->direction[3 + column], this->direction[6 + column] };
}

Vec3 Geometry::physicalPoint(double i, double j, double k) const
{
  return this->origin + (i * this->spacing.x) * this->axis(0) +
    (j * this->spacing.y) * this->axis(1) + (k * this->spacing.z) * this->axis(2);
}

Geometry flipLPSRAS(const Geometry& geometry)
{
  Geometry flipped = geometry;
  flipped.origin.x = -geometry.origin.x;
  flipped.origin.y = -geometry.origin.y;
  for (int column = 0; column < 3; ++column)
  {
    flipped.direction[column] = -geometry.direction[column];
    flipped.direction[3 + column] = -geometry.direction[3 + column];
  }
  return flipped;
}

namespace
{
/// What a DICOM object of a storage class that is not a CT-like volume slice is, for the note
/// that says it was left out; empty for the image classes a volume is made of (and for files
/// that name no class).
std::string nonVolumeKind(const std::string& sopClass)
{
  static const std::map<std::string, std::string> volumeClasses = {
    { "1.2.840.10008.5.1.4.1.1.2", "CT" }, { "1.2.840.10008.5.1.4.1.1.2.1", "enhanced CT" },
    { "1.2.840.10008.5.1.4.1.1.2.2", "legacy enhanced CT" }, { "1.2.840.10008.5.1.4.1.1.4", "MR" },
    { "1.2.840.10008.5.1.4.1.1.4.1", "enhanced MR" },
    { "1.2.840.10008.5.1.4.1.1.4.4", "legacy enhanced MR" }, { "1.2.840.10008.5.1.4.1.1.128", "PET" },
    { "1.2.840.10008.5.1.4.1.1.130", "enhanced PET" }
  };
  if (sopClass.empty() || volumeClasses.count(sopClass))
  {
    return "";
  }
  const std::pair<const char*, const char*> known[] = { { "1.2.840.10008.5.1.4.1.1.481.2", "RT Dose" },
    { "1.2.840.10008.5.1.4.1.1.481.5", "RT Plan" }, { "1.2.840.10008.5.1.4.1.1.481.3", "RT Structure Set" },
    { "1.2.840.10008.5.1.4.1.1.481.", "RT object" }, { "1.2.840.10008.5.1.4.1.1.88.", "structured report" },
    { "1.2.840.10008.5.1.4.1.1.7", "secondary capture" }, { "1.2.840.10008.5.1.4.1.1.9.", "waveform" },
    { "1.2.840.10008.5.1.4.1.1.11.", "presentation state" }, { "1.2.840.10008.5.1.4.1.1.104.", "encapsulated document" } };
  for (const auto& [prefix, name] : known)
  {
    if (sopClass.compare(0, std::strlen(prefix), prefix) == 0)
    {
      return name;
    }
  }
  return "object of class " + sopClass;
}

std::vector<DicomSeries> scanFolder(const std::string& folder,
  bool recursive,
  std::string& error,
  std::vector<std::string>* skipped = nullptr)
{
  // GDCM prints warnings for every odd header; the reader reports what matters itself.
  gdcm::Trace::WarningOff();

  gdcm::Directory directory;
  directory.Load(folder, recursive);
  const gdcm::Directory::FilenamesType& files = directory.GetFilenames();
  if (files.empty())
  {
    error = "the folder '" + folder + "' holds no files";
    return {};
  }

  const gdcm::Tag seriesUidTag(0x0020, 0x000e);
  const gdcm::Tag descriptionTag(0x0008, 0x103e);
  const gdcm::Tag positionTag(0x0020, 0x0032);
  const gdcm::Tag orientationTag(0x0020, 0x0037);
  const gdcm::Tag rowsTag(0x0028, 0x0010);
  const gdcm::Tag columnsTag(0x0028, 0x0011);
  const gdcm::Tag sopClassTag(0x0008, 0x0016);
  gdcm::Scanner scanner;
  for (const gdcm::Tag& tag :
    { seriesUidTag, descriptionTag, positionTag, orientationTag, rowsTag, columnsTag, sopClassTag })
  {
    scanner.AddTag(tag);
  }
  if (!scanner.Scan(files))
  {
    error = "scanning the folder '" + folder + "' for DICOM files failed";
    return {};
  }

  struct Slice
  {
    std::string file;
    Vec3 position;
  };
  struct Group
  {
    std::string uid;
    std::string description;
    Vec3 normal;
    std::vector<Slice> slices;
  };
  std::map<std::string, Group> groups;
  for (const std::string& file : files)
  {
    if (!scanner.IsKey(file.c_str()))
    {
      continue; // not DICOM
    }
    // Dose grids, plans, structure sets, reports, screenshots are no CT slices; some (a
    // single-frame RT Dose) would even abort the process inside GDCM when read as an image.
    const std::string kind = nonVolumeKind(trimmed(scanner.GetValue(file.c_str(), sopClassTag)));
    if (!kind.empty())
    {
      if (skipped)
      {
        skipped->push_back(kind + " '" + file + "'");
      }
      continue;
    }
    const std::string uid = trimmed(scanner.GetValue(file.c_str(), seriesUidTag));
    const std::vector<double> position = decimals(scanner.GetValue(file.c_str(), positionTag));
    const std::vector<double> orientation =
      decimals(scanner.GetValue(file.c_str(), orientationTag));
    const std::string rows = trimmed(scanner.GetValue(file.c_str(), rowsTag));
    const std::string columns = trimmed(scanner.GetValue(file.c_str(), columnsTag));
    if (uid.empty() || position.size() != 3 || orientation.size() != 6 || rows.empty())
    {
      continue; // not an image slice with a position (DICOMDIR, report, ...)
    }
    const Vec3 rowDirection = normalized(Vec3{ orientation[0], orientation[1], orientation[2] });
    const Vec3 columnDirection = normalized(Vec3{ orientation[3], orientation[4], orientation[5] });
    // Slices of one series with another orientation or matrix (a localizer stored in the
    // series) cannot be stacked with the rest: they form their own group.
    std::ostringstream key;
    key.precision(3);
    key << std::fixed << uid << '|' << rows << 'x' << columns;
    for (double cosine : orientation)
    {
      key << '|' << (std::abs(cosine) < 5e-4 ? 0.0 : cosine);
    }
    Group& group = groups[key.str()];
    group.uid = uid;
    group.description = trimmed(scanner.GetValue(file.c_str(), descriptionTag));
    group.normal = normalized(cross(rowDirection, columnDirection));
    group.slices.push_back({ file, Vec3{ position[0], position[1], position[2] } });
  }
  if (groups.empty())
  {
    error = "no DICOM image slices with a position and orientation in '" + folder + "'";
    return {};
  }

  std::map<std::string, int> partsOfUid;
  for (const auto& entry : groups)
  {
    ++partsOfUid[entry.second.uid];
  }
  std::map<std::string, int> partNumber;
  std::vector<DicomSeries> series;
  for (auto& entry : groups)
  {
    Group& group = entry.second;
    std::sort(group.slices.begin(),
      group.slices.end(),
      [&group](const Slice& a, const Slice& b)
      {
        const double offsetA = dot(a.position, group.normal);
        const double offsetB = dot(b.position, group.normal);
        return offsetA != offsetB ? offsetA < offsetB : a.file < b.file;
      });
    DicomSeries found;
    found.uid = group.uid;
    found.description = group.description;
    for (const Slice& slice : group.slices)
    {
      found.files.push_back(slice.file);
      found.sliceOffsets.push_back(dot(slice.position, group.normal));
    }
    std::ostringstream label;
    label << (group.description.empty() ? std::string("Series") : group.description);
    if (partsOfUid[group.uid] > 1)
    {
      label << " part " << ++partNumber[group.uid];
    }
    label << " (" << found.files.size() << (found.files.size() == 1 ? " slice) " : " slices) ")
          << group.uid;
    found.label = label.str();
    series.push_back(std::move(found));
  }
  std::stable_sort(series.begin(),
    series.end(),
    [](const DicomSeries& a, const DicomSeries& b) { return a.files.size() > b.files.size(); });
  return series;
}
} // namespace

std::vector<DicomSeries> scanDicomFolder(const std::string& folder,
  std::string& error,
  std::vector<std::string>* skipped)
{
  std::vector<DicomSeries> series = scanFolder(folder, false, error, skipped);
  if (series.empty())
  {
    // Exports often nest the slices (DICOM/PA0/ST0/SE0/...): look below before giving up.
    std::string nestedError;
    if (skipped)
    {
      skipped->clear();
    }
    series = scanFolder(folder, true, nestedError, skipped);
    if (!series.empty())
    {
      error.clear();
    }
  }
  return series;
}

bool VolumeFile::open(const std::string& path, const std::string& series, std::string& error)
{
  *this = VolumeFile();
  this->Path = path;
  if (path.empty())
  {
    error = "no file name given";
    return false;
  }
  if (!exists(path))
  {
    error = "'" + path + "' does not exist";
    return false;
  }
  const FileFormat format = formatOf(path);
  if (format == FileFormat::DicomSeries && isDirectory(path))
  {
    return this->openDicomSeries(path, series, true, "", error);
  }
  if (format == FileFormat::DicomSeries)
  {
    // A file is read as what it is. A DICOM slice opens its series, from its own folder only;
    // anything else (an implant STL, a picture next to a DICOM folder) is not a CT.
    if (!isDicomFile(path))
    {
      error = "'" + path +
        "' is not a CT volume (neither DICOM by its content nor NRRD, NIfTI or MetaImage by its "
        "extension); open the DICOM folder or a volume file";
      return false;
    }
    return this->openDicomSeries(parentFolder(path), series, false, path, error);
  }
  return this->openFile(path, format, error);
}

bool VolumeFile::openFile(const std::string& path, FileFormat format, std::string& error)
{
  itk::ImageIOBase::Pointer io = makeImageIO(format);
  if (!readInformation(io, path, error))
  {
    return false;
  }
  const unsigned int dimensions = io->GetNumberOfDimensions();
  if (dimensions < 2 || dimensions > 4 || (dimensions == 4 && io->GetDimensions(3) != 1))
  {
    error = "'" + path + "' is a " + std::to_string(dimensions) +
      "-dimensional image; a CT volume has 3 dimensions";
    return false;
  }
  if (io->GetNumberOfComponents() != 1)
  {
    error = "'" + path + "' has " + std::to_string(io->GetNumberOfComponents()) +
      " values per voxel; a CT volume has one (HU)";
    return false;
  }
  Geometry& geometry = this->ImageGeometry;
  const unsigned int used = std::min(dimensions, 3u);
  double spacing[3] = { 1.0, 1.0, 1.0 };
  double origin[3] = { 0.0, 0.0, 0.0 };
  geometry.direction = { { 1, 0, 0, 0, 1, 0, 0, 0, 1 } };
  for (unsigned int axis = 0; axis < used; ++axis)
  {
    geometry.dimensions[axis] = static_cast<int>(io->GetDimensions(axis));
    spacing[axis] = io->GetSpacing(axis);
    origin[axis] = io->GetOrigin(axis);
    const std::vector<double> column = io->GetDirection(axis);
    for (unsigned int row = 0; row < used && row < column.size(); ++row)
    {
      geometry.direction[3 * row + axis] = column[row];
    }
  }
  if (used == 2)
  {
    geometry.dimensions[2] = 1;
  }
  geometry.spacing = { spacing[0], spacing[1], spacing[2] };
  geometry.origin = { origin[0], origin[1], origin[2] };
  if (spacing[0] <= 0.0 || spacing[1] <= 0.0 || spacing[2] <= 0.0)
  {
    error = "'" + path + "' has a non-positive voxel spacing";
    return false;
  }
  // A file cut short (an interrupted copy or download) would read with made-up voxels.
  const std::int64_t voxels = static_cast<std::int64_t>(geometry.dimensions[0]) *
    geometry.dimensions[1] * geometry.dimensions[2];
  std::string truncation;
  if (format == FileFormat::MetaImage)
  {
    truncation = truncatedMetaImage(path, voxels * static_cast<std::int64_t>(io->GetComponentSize()));
  }
  else if (format == FileFormat::Nifti)
  {
    truncation = truncatedNifti(path);
  }
  else if (format == FileFormat::DicomFile)
  {
    truncation = truncatedDicomFile(path);
  }
  if (!truncation.empty())
  {
    error = truncation;
    return false;
  }
  this->Format = format;
  this->FloatValues = componentNeedsFloat(io->GetComponentType());
  // MetaImage reads a region of an uncompressed raw file directly; the other formats decode
  // the whole file (ITK 5.2 NRRD and NIfTI have no streamed reading).
  this->Streams = format == FileFormat::MetaImage && io->CanStreamRead();
  if (format == FileFormat::Nrrd && used == 3)
  {
    // ITK 5.2 decodes NRRD whole; a raw one is read here a row segment at a time.
    this->Raw = rawNrrdLayout(path, geometry);
    this->Streams = this->Raw.usable;
  }
  return true;
}

bool VolumeFile::findSeries(const std::string& folder,
  const std::string& wanted,
  bool searchBelow,
  const std::string& slice,
  std::string& error)
{
  std::vector<std::string> skipped;
  std::vector<DicomSeries> found = searchBelow ? scanDicomFolder(folder, error, &skipped)
                                               : scanFolder(folder, false, error, &skipped);
  if (!skipped.empty())
  {
    std::string note = "left out " + std::to_string(skipped.size()) +
      " DICOM object(s) that are no CT slices: " + skipped.front();
    if (skipped.size() > 1)
    {
      note += " and " + std::to_string(skipped.size() - 1) + " more";
    }
    if (found.empty())
    {
      error = "no CT or MR image slices in '" + folder + "'; " + note;
    }
    else
    {
      this->Warnings.push_back(note);
    }
  }
  if (found.empty())
  {
    if (!slice.empty() && error.empty())
    {
      error = "'" + slice + "' is DICOM but holds no image slice of a series";
    }
    return false;
  }
  int selected = 0;
  if (wanted.empty() && !slice.empty())
  {
    // The series the chosen file belongs to.
    selected = -1;
    for (std::size_t index = 0; index < found.size() && selected < 0; ++index)
    {
      for (const std::string& file : found[index].files)
      {
        if (sameFile(file, slice))
        {
          selected = static_cast<int>(index);
          break;
        }
      }
    }
    if (selected < 0)
    {
      error = "'" + slice + "' is DICOM but not an image slice of a series in its folder";
      return false;
    }
    // First in the list, so that a Series property set from the list's first entry (as
    // ParaView does when the reader is created) keeps it.
    std::rotate(found.begin(), found.begin() + selected, found.begin() + selected + 1);
    selected = 0;
    if (found.size() > 1)
    {
      this->Warnings.push_back("the folder holds " + std::to_string(found.size()) +
        " series; reading [" + found[0].label +
        "], the one the chosen file belongs to. Choose another with Series");
    }
  }
  else if (!wanted.empty())
  {
    selected = -1;
    for (std::size_t index = 0; index < found.size(); ++index)
    {
      if (found[index].uid == wanted || found[index].label == wanted)
      {
        selected = static_cast<int>(index);
        break;
      }
    }
    if (selected < 0)
    {
      error = "no series '" + wanted + "' in '" + folder + "'; it holds:";
      for (const DicomSeries& series : found)
      {
        error += " [" + series.label + "]";
      }
      return false;
    }
  }
  else if (found.size() > 1)
  {
    std::string others;
    for (std::size_t index = 1; index < found.size(); ++index)
    {
      others += " [" + found[index].label + "]";
    }
    this->Warnings.push_back("the folder holds " + std::to_string(found.size()) +
      " series; reading the largest, [" + found[0].label +
      "]. Choose another with Series:" + others);
  }
  this->Series = std::move(found);
  this->SelectedSeries = selected;
  return true;
}

bool VolumeFile::openDicomSeries(const std::string& folder,
  const std::string& wanted,
  bool searchBelow,
  const std::string& slice,
  std::string& error)
{
  if (!this->findSeries(folder, wanted, searchBelow, slice, error))
  {
    return false;
  }
  const DicomSeries& series = this->Series[static_cast<std::size_t>(this->SelectedSeries)];

  // In-plane geometry and the value type from the first slice's header.
  itk::GDCMImageIO::Pointer io = itk::GDCMImageIO::New();
  if (!readInformation(io, series.files.front(), error))
  {
    return false;
  }
  if (io->GetNumberOfComponents() != 1)
  {
    error = "series [" + series.label + "] is not greyscale; a CT has one value per voxel";
    return false;
  }
  error = truncatedSlice(series);
  if (!error.empty())
  {
    return false;
  }
  if (series.files.size() == 1 && io->GetNumberOfDimensions() == 3 && io->GetDimensions(2) > 1)
  {
    // One multi-frame file: ITK reads it as a volume.
    return this->openFile(series.files.front(), FileFormat::DicomFile, error);
  }

  Geometry& geometry = this->ImageGeometry;
  const int slices = static_cast<int>(series.files.size());
  geometry.dimensions = {
    { static_cast<int>(io->GetDimensions(0)), static_cast<int>(io->GetDimensions(1)), slices }
  };
  Vec3 axes[2];
  for (int axis = 0; axis < 2; ++axis)
  {
    const std::vector<double> column = io->GetDirection(axis);
    axes[axis] = normalized(Vec3{ column[0], column[1], column.size() > 2 ? column[2] : 0.0 });
  }
  const Vec3 normal = normalized(cross(axes[0], axes[1]));
  geometry.origin = { io->GetOrigin(0), io->GetOrigin(1), io->GetOrigin(2) };
  geometry.spacing = { io->GetSpacing(0), io->GetSpacing(1), 1.0 };
  Vec3 sliceAxis = normal;
  if (slices > 1)
  {
    const std::vector<double>& offsets = series.sliceOffsets;
    const double span = offsets.back() - offsets.front();
    const double step = span / (slices - 1);
    double smallestGap = std::numeric_limits<double>::max();
    double largestGap = 0.0;
    for (int k = 1; k < slices; ++k)
    {
      smallestGap = std::min(smallestGap, offsets[k] - offsets[k - 1]);
      largestGap = std::max(largestGap, offsets[k] - offsets[k - 1]);
    }
    if (smallestGap < 1e-3)
    {
      error = "two slices of series [" + series.label +
        "] lie at the same position: the series mixes acquisitions (or holds duplicates); "
        "split the folder";
      return false;
    }
    if (largestGap - smallestGap > 0.01 * step + 1e-3)
    {
      std::ostringstream message;
      message << "slices of series [" << series.label << "] are unevenly spaced (gaps from "
              << smallestGap << " to " << largestGap << " mm); the volume uses the mean, " << step
              << " mm, so positions between the gaps are off by up to "
              << (largestGap - smallestGap) * (slices - 1) / 2.0 << " mm";
      this->Warnings.push_back(message.str());
    }
    geometry.spacing.z = step;

    // The slice positions themselves define the third axis, so a gantry-tilted series keeps
    // every voxel where the scanner put it (the grid is then sheared).
    itk::GDCMImageIO::Pointer lastIO = itk::GDCMImageIO::New();
    if (!readInformation(lastIO, series.files.back(), error))
    {
      return false;
    }
    const Vec3 first = geometry.origin;
    const Vec3 last{ lastIO->GetOrigin(0), lastIO->GetOrigin(1), lastIO->GetOrigin(2) };
    const Vec3 stepVector = (1.0 / (slices - 1)) * (last - first);
    const double stepLength = length(stepVector);
    const double tilt = std::acos(std::min(1.0, std::abs(dot(stepVector, normal)) / stepLength));
    if (tilt > 1e-4)
    {
      std::ostringstream message;
      message << "series [" << series.label << "] is gantry tilted ("
              << tilt * 180.0 / 3.14159265358979 << " degrees): the voxel grid is sheared "
              << "to keep every slice where the scanner put it";
      this->Warnings.push_back(message.str());
      sliceAxis = (1.0 / stepLength) * stepVector;
      geometry.spacing.z = stepLength;
    }
  }
  const Vec3 columns[3] = { axes[0], axes[1], sliceAxis };
  for (int column = 0; column < 3; ++column)
  {
    geometry.direction[column] = columns[column].x;
    geometry.direction[3 + column] = columns[column].y;
    geometry.direction[6 + column] = columns[column].z;
  }

  // HU type: ITK reports the type after its rescale (int16 when the stored range maps into
  // int16 with integer slope and intercept, otherwise wider or floating point).
  const double slope = io->GetRescaleSlope();
  const double intercept = io->GetRescaleIntercept();
  bool needsFloat = componentNeedsFloat(io->GetComponentType());
  // Other slices may carry other rescale values (legal in DICOM): check them all.
  if (!needsFloat)
  {
    gdcm::Scanner rescaleScanner;
    const gdcm::Tag interceptTag(0x0028, 0x1052);
    const gdcm::Tag slopeTag(0x0028, 0x1053);
    rescaleScanner.AddTag(interceptTag);
    rescaleScanner.AddTag(slopeTag);
    rescaleScanner.Scan(series.files);
    for (const std::string& file : series.files)
    {
      const double fileSlope = decimalOr(rescaleScanner.GetValue(file.c_str(), slopeTag), 1.0);
      const double fileIntercept =
        decimalOr(rescaleScanner.GetValue(file.c_str(), interceptTag), 0.0);
      if (fileSlope != slope || fileIntercept != intercept)
      {
        needsFloat = true;
        break;
      }
    }
  }
  this->FloatValues = needsFloat;
  this->Format = FileFormat::DicomSeries;
  this->Streams = true;
  return true;
}

VolumeFile::RawLayout VolumeFile::rawNrrdLayout(const std::string& path, const Geometry& geometry)
{
  // The NRRD header is text, "field: value" lines up to a blank line (or its end in a detached
  // .nhdr). Only the simple case is handled: one raw data file, no line skip.
  RawLayout layout;
  std::ifstream header(path, std::ios::binary);
  std::string line;
  std::string encoding, type, endian = "little", dataFile;
  std::int64_t byteSkip = 0;
  std::int64_t lineSkip = 0;
  std::int64_t headerBytes = 0;
  bool blankSeen = false;
  while (std::getline(header, line))
  {
    headerBytes += static_cast<std::int64_t>(line.size()) + 1;
    if (!line.empty() && line.back() == '\r')
    {
      line.pop_back();
    }
    if (line.empty())
    {
      blankSeen = true;
      break;
    }
    if (line[0] == '#')
    {
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos)
    {
      continue;
    }
    const std::string key = lowercase(trimmed(line.substr(0, colon).c_str()));
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value[0] == '=')
    {
      continue; // key/value pairs ("key:=value") are not fields
    }
    value = trimmed(value.c_str());
    try
    {
      if (key == "encoding")
      {
        encoding = lowercase(value);
      }
      else if (key == "type")
      {
        type = lowercase(value);
      }
      else if (key == "endian")
      {
        endian = lowercase(value);
      }
      else if (key == "data file" || key == "datafile")
      {
        dataFile = value;
      }
      else if (key == "byte skip" || key == "byteskip")
      {
        byteSkip = std::stoll(value);
      }
      else if (key == "line skip" || key == "lineskip")
      {
        lineSkip = std::stoll(value);
      }
    }
    catch (...)
    {
      return layout;
    }
  }
  if (encoding != "raw" || lineSkip != 0 || dataFile.find(' ') != std::string::npos ||
    lowercase(dataFile).rfind("list", 0) == 0)
  {
    return layout;
  }
  struct TypeInfo
  {
    std::array<const char*, 6> names;
    int bytes;
    bool isFloat;
    bool isSigned;
  };
  const TypeInfo types[] = {
    { { "signed char", "int8", "int8_t", "", "", "" }, 1, false, true },
    { { "uchar", "unsigned char", "uint8", "uint8_t", "", "" }, 1, false, false },
    { { "short", "short int", "signed short", "signed short int", "int16", "int16_t" },
      2,
      false,
      true },
    { { "ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t", "" },
      2,
      false,
      false },
    { { "int", "signed int", "int32", "int32_t", "", "" }, 4, false, true },
    { { "uint", "unsigned int", "uint32", "uint32_t", "", "" }, 4, false, false },
    { { "float", "", "", "", "", "" }, 4, true, true },
    { { "double", "", "", "", "", "" }, 8, true, true },
  };
  for (const TypeInfo& candidate : types)
  {
    for (const char* name : candidate.names)
    {
      if (*name && type == name)
      {
        layout.componentBytes = candidate.bytes;
        layout.isFloat = candidate.isFloat;
        layout.isSigned = candidate.isSigned;
      }
    }
  }
  if (layout.componentBytes == 0)
  {
    return layout;
  }
  const std::int64_t voxels = static_cast<std::int64_t>(geometry.dimensions[0]) *
    geometry.dimensions[1] * geometry.dimensions[2];
  const std::int64_t dataBytes = voxels * layout.componentBytes;
  if (dataFile.empty())
  {
    if (!blankSeen)
    {
      return layout;
    }
    layout.dataFile = path;
    layout.offset = headerBytes;
  }
  else
  {
    layout.dataFile = dataFile[0] == '/' ? dataFile : parentFolder(path) + "/" + dataFile;
    layout.offset = 0;
  }
  struct stat info;
  if (stat(layout.dataFile.c_str(), &info) != 0)
  {
    return layout;
  }
  // byte skip -1: the data are the last bytes of the file.
  layout.offset =
    byteSkip == -1 ? static_cast<std::int64_t>(info.st_size) - dataBytes : layout.offset + byteSkip;
  if (layout.offset < 0 || layout.offset + dataBytes > static_cast<std::int64_t>(info.st_size))
  {
    return layout;
  }
  const std::uint16_t one = 1;
  const bool littleMachine = *reinterpret_cast<const unsigned char*>(&one) == 1;
  layout.swapBytes = layout.componentBytes > 1 && ((endian == "big") == littleMachine);
  layout.usable = true;
  return layout;
}

template<typename Out>
bool VolumeFile::readRaw(const int extent[6], Out* values, std::string& error) const
{
  std::ifstream data(this->Raw.dataFile, std::ios::binary);
  if (!data)
  {
    error = "cannot open '" + this->Raw.dataFile + "'";
    return false;
  }
  const int nx = this->ImageGeometry.dimensions[0];
  const int ny = this->ImageGeometry.dimensions[1];
  const int bytes = this->Raw.componentBytes;
  const int rowLength = extent[1] - extent[0] + 1;
  std::vector<unsigned char> row(static_cast<std::size_t>(rowLength) * bytes);
  std::size_t at = 0;
  for (int k = extent[4]; k <= extent[5]; ++k)
  {
    for (int j = extent[2]; j <= extent[3]; ++j)
    {
      // Only this row's part of the file is read.
      const std::int64_t first =
        (static_cast<std::int64_t>(k) * ny + j) * nx + static_cast<std::int64_t>(extent[0]);
      data.seekg(this->Raw.offset + first * bytes);
      data.read(reinterpret_cast<char*>(row.data()), static_cast<std::streamsize>(row.size()));
      if (!data)
      {
        error = "'" + this->Raw.dataFile + "' is shorter than its header says";
        return false;
      }
      for (int i = 0; i < rowLength; ++i, ++at)
      {
        unsigned char* value = row.data() + static_cast<std::size_t>(i) * bytes;
        if (this->Raw.swapBytes)
        {
          std::reverse(value, value + bytes);
        }
        double converted = 0.0;
        if (bytes == 1)
        {
          converted = this->Raw.isSigned ? static_cast<double>(static_cast<signed char>(*value))
                                         : static_cast<double>(*value);
        }
        else if (bytes == 2)
        {
          std::int16_t s16;
          std::uint16_t u16;
          std::memcpy(&s16, value, 2);
          std::memcpy(&u16, value, 2);
          converted = this->Raw.isSigned ? s16 : u16;
        }
        else if (bytes == 4)
        {
          float f32;
          std::int32_t s32;
          std::uint32_t u32;
          std::memcpy(&f32, value, 4);
          std::memcpy(&s32, value, 4);
          std::memcpy(&u32, value, 4);
          converted = this->Raw.isFloat ? f32 : (this->Raw.isSigned ? s32 : u32);
        }
        else
        {
          std::memcpy(&converted, value, 8);
        }
        values[at] = static_cast<Out>(converted);
      }
    }
  }
  return true;
}

template<typename Out>
bool VolumeFile::readAny(const int extent[6],
  Out* values,
  std::string& error,
  void (*progress)(void*, double),
  void* progressData) const
{
  const Geometry& geometry = this->ImageGeometry;
  for (int axis = 0; axis < 3; ++axis)
  {
    if (extent[2 * axis] < 0 || extent[2 * axis + 1] >= geometry.dimensions[axis] ||
      extent[2 * axis] > extent[2 * axis + 1])
    {
      error = "requested extent is outside the image";
      return false;
    }
  }
  const int boxSize[3] = {
    extent[1] - extent[0] + 1, extent[3] - extent[2] + 1, extent[5] - extent[4] + 1
  };

  try
  {
    if (this->Format == FileFormat::DicomSeries)
    {
      const DicomSeries& series = this->Series[this->SelectedSeries];
      const int sliceSize[3] = { geometry.dimensions[0], geometry.dimensions[1], 1 };
      const int sliceStart[3] = { extent[0], extent[2], 0 };
      const int sliceBox[3] = { boxSize[0], boxSize[1], 1 };
      std::vector<char> buffer;
      for (int k = extent[4]; k <= extent[5]; ++k)
      {
        const std::string& file = series.files[k];
        itk::GDCMImageIO::Pointer io = itk::GDCMImageIO::New();
        if (!readInformation(io, file, error))
        {
          return false;
        }
        if (static_cast<int>(io->GetDimensions(0)) != sliceSize[0] ||
          static_cast<int>(io->GetDimensions(1)) != sliceSize[1])
        {
          error = "slice '" + file + "' has another matrix size than the rest of the series";
          return false;
        }
        buffer.resize(io->GetImageSizeInBytes());
        io->Read(buffer.data());
        Out* slab = values + static_cast<std::size_t>(k - extent[4]) * boxSize[0] * boxSize[1];
        if (!copyBoxAnyType(
              io->GetComponentType(), buffer.data(), sliceSize, sliceStart, sliceBox, slab))
        {
          error = "slice '" + file + "' has an unsupported pixel type";
          return false;
        }
        if (progress)
        {
          progress(progressData, (k - extent[4] + 1.0) / boxSize[2]);
        }
      }
      return true;
    }

    if (this->Raw.usable)
    {
      return this->readRaw(extent, values, error);
    }
    itk::ImageIOBase::Pointer io = makeImageIO(this->Format);
    if (!readInformation(io, this->Path, error))
    {
      return false;
    }
    const unsigned int dimensions = io->GetNumberOfDimensions();
    itk::ImageIORegion region(dimensions);
    int sourceSize[3];
    int sourceStart[3];
    for (unsigned int axis = 0; axis < dimensions; ++axis)
    {
      const bool sub = this->Streams && axis < 3;
      region.SetIndex(axis, sub ? extent[2 * axis] : 0);
      region.SetSize(axis, sub ? boxSize[axis] : io->GetDimensions(axis));
    }
    for (int axis = 0; axis < 3; ++axis)
    {
      sourceSize[axis] = this->Streams ? boxSize[axis] : geometry.dimensions[axis];
      sourceStart[axis] = this->Streams ? 0 : extent[2 * axis];
    }
    io->SetIORegion(region);
    std::size_t voxels = 1;
    for (unsigned int axis = 0; axis < dimensions; ++axis)
    {
      voxels *= region.GetSize(axis);
    }
    std::vector<char> buffer(voxels * io->GetComponentSize());
    io->Read(buffer.data());
    if (progress)
    {
      progress(progressData, 0.8);
    }
    if (!copyBoxAnyType(
          io->GetComponentType(), buffer.data(), sourceSize, sourceStart, boxSize, values))
    {
      error = "'" + this->Path + "' has an unsupported pixel type";
      return false;
    }
    if (progress)
    {
      progress(progressData, 1.0);
    }
  }
  catch (const itk::ExceptionObject& exception)
  {
    error = std::string("reading failed: ") + exception.GetDescription();
    return false;
  }
  catch (const std::bad_alloc&)
  {
    error = "not enough memory to read '" + this->Path + "'";
    return false;
  }
  return true;
}

bool VolumeFile::read(const int extent[6],
  float* values,
  std::string& error,
  void (*progress)(void*, double),
  void* progressData) const
{
  return this->readAny(extent, values, error, progress, progressData);
}

bool VolumeFile::read(const int extent[6],
  short* values,
  std::string& error,
  void (*progress)(void*, double),
  void* progressData) const
{
  return this->readAny(extent, values, error, progress, progressData);
}

} // namespace ct
} // namespace ibc
