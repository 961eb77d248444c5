// SPDX-License-Identifier: BSD-3-Clause
#include "ibcTestVolumes.h"

#include "ibcLinearAlgebra.h"

#include "itkGDCMImageIO.h"
#include "itkImage.h"
#include "itkImageFileWriter.h"
#include "itkMetaDataObject.h"
#include "itkMetaImageIO.h"
#include "itkNiftiImageIO.h"
#include "itkNrrdImageIO.h"

#include "gdcmTrace.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace ibc
{
namespace testvolumes
{
namespace
{
using Matrix = Rotation; // row-major 3x3 (ibcLinearAlgebra.h), multiplied by ibc::multiply

template<typename ImageType>
void setGeometry(ImageType* image, const WrittenGeometry& geometry, int firstSlice, int slices)
{
  typename ImageType::RegionType region;
  typename ImageType::SizeType size;
  size[0] = geometry.dimensions[0];
  size[1] = geometry.dimensions[1];
  size[2] = slices;
  region.SetSize(size);
  image->SetRegions(region);
  typename ImageType::SpacingType spacing;
  typename ImageType::PointType origin;
  typename ImageType::DirectionType direction;
  for (int row = 0; row < 3; ++row)
  {
    spacing[row] = geometry.spacing[row];
    origin[row] =
      geometry.origin[row] + geometry.direction[3 * row + 2] * geometry.spacing[2] * firstSlice;
    for (int column = 0; column < 3; ++column)
    {
      direction(row, column) = geometry.direction[3 * row + column];
    }
  }
  image->SetSpacing(spacing);
  image->SetOrigin(origin);
  image->SetDirection(direction);
  image->Allocate();
}

bool makeFolder(const std::string& folder)
{
  std::string partial;
  std::stringstream stream(folder);
  std::string part;
  if (!folder.empty() && folder[0] == '/')
  {
    partial = "/";
  }
  while (std::getline(stream, part, '/'))
  {
    if (part.empty())
    {
      continue;
    }
    partial += part + "/";
    mkdir(partial.c_str(), 0755);
  }
  struct stat info;
  return stat(folder.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string number(double value)
{
  std::ostringstream text;
  text.precision(17);
  text << value;
  return text.str();
}

using FloatImage = itk::Image<float, 3>;
using ShortImage = itk::Image<short, 3>;

/// One DICOM slice file: HU given as float, stored by GDCM as uint16 through slope/intercept.
void writeDicomSlice(const std::string& file,
  FloatImage* slice,
  const std::string& seriesUid,
  const std::string& description,
  int instanceNumber,
  const std::string& instanceUid)
{
  itk::MetaDataDictionary& tags = slice->GetMetaDataDictionary();
  tags.Clear();
  const std::pair<const char*, std::string> values[] = {
    { "0008|0016", "1.2.840.10008.5.1.4.1.1.2" }, // CT Image Storage
    { "0008|0018", instanceUid },
    { "0008|0060", "CT" },
    { "0008|103e", description },
    { "0010|0010", "Phantom^Oblique" },
    { "0020|000d", "1.2.826.0.1.3680043.9.7133.1" },
    { "0020|000e", seriesUid },
    { "0020|0013", std::to_string(instanceNumber) },
    { "0028|0004", "MONOCHROME2" },
    { "0028|0100", "16" },
    { "0028|0101", "16" },
    { "0028|0102", "15" },
    { "0028|0103", "0" }, // unsigned: HU only come out right through the rescale
    { "0028|1052", "-1024" },
    { "0028|1053", "0.5" },
  };
  for (const auto& value : values)
  {
    itk::EncapsulateMetaData<std::string>(tags, value.first, value.second);
  }
  itk::GDCMImageIO::Pointer io = itk::GDCMImageIO::New();
  io->KeepOriginalUIDOn();
  auto writer = itk::ImageFileWriter<FloatImage>::New();
  writer->SetImageIO(io);
  writer->SetInput(slice);
  writer->SetFileName(file);
  writer->Update();
}

} // namespace

WrittenGeometry writtenGeometry()
{
  WrittenGeometry geometry;
  // Rotation by 20 degrees about z, then 12 degrees about x; the slice axis reversed.
  const double a = 20.0 * 3.14159265358979323846 / 180.0;
  const double b = 12.0 * 3.14159265358979323846 / 180.0;
  const Matrix aboutZ{ std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1 };
  const Matrix aboutX{ 1, 0, 0, 0, std::cos(b), -std::sin(b), 0, std::sin(b), std::cos(b) };
  const Matrix reverseSlices{ 1, 0, 0, 0, 1, 0, 0, 0, -1 };
  geometry.direction = multiply(multiply(aboutX, aboutZ), reverseSlices);
  return geometry;
}

double huAt(int i, int j, int k, bool integral)
{
  const int code = 37 * i + 101 * j + 211 * k;
  return integral ? -1024.0 + (code % 4095) : -1024.0 + 0.5 * (code % 8190);
}

bool writeAll(const std::string& folder, std::string& error)
{
  gdcm::Trace::WarningOff();
  const WrittenGeometry geometry = writtenGeometry();
  const int nx = geometry.dimensions[0];
  const int ny = geometry.dimensions[1];
  const int nz = geometry.dimensions[2];
  try
  {
    if (!makeFolder(folder + "/dicom"))
    {
      error = "cannot create " + folder + "/dicom";
      return false;
    }

    // The CT series, one file per slice, in a shuffled naming order (k * 7 mod nz).
    const std::string seriesUid = "1.2.826.0.1.3680043.9.7133.1.2";
    for (int k = 0; k < nz; ++k)
    {
      auto slice = FloatImage::New();
      setGeometry(slice.GetPointer(), geometry, k, 1);
      float* values = slice->GetBufferPointer();
      for (int j = 0; j < ny; ++j)
      {
        for (int i = 0; i < nx; ++i)
        {
          values[j * nx + i] = static_cast<float>(huAt(i, j, k, false));
        }
      }
      const int shuffled = (k * 7) % nz;
      char name[32];
      std::snprintf(name, sizeof(name), "IM%04d", shuffled);
      writeDicomSlice(folder + "/dicom/" + name,
        slice.GetPointer(),
        seriesUid,
        "Oblique CT",
        100 - shuffled,
        seriesUid + "." + std::to_string(k + 1));
    }

    // A small axial scout series in the same folder, which the reader must not mix in.
    const std::string scoutUid = "1.2.826.0.1.3680043.9.7133.1.3";
    WrittenGeometry scout;
    scout.dimensions = { { 8, 8, 3 } };
    scout.spacing = { { 2.0, 2.0, 5.0 } };
    scout.origin = { { 0.0, 0.0, 0.0 } };
    scout.direction = { { 1, 0, 0, 0, 1, 0, 0, 0, 1 } };
    for (int k = 0; k < 3; ++k)
    {
      auto slice = FloatImage::New();
      setGeometry(slice.GetPointer(), scout, k, 1);
      slice->FillBuffer(-1000.0f);
      writeDicomSlice(folder + "/dicom/SCOUT" + std::to_string(k),
        slice.GetPointer(),
        scoutUid,
        "Scout",
        k + 1,
        scoutUid + "." + std::to_string(k + 1));
    }

    // The same volume as int16 HU in the file formats.
    auto volume = ShortImage::New();
    setGeometry(volume.GetPointer(), geometry, 0, nz);
    short* values = volume->GetBufferPointer();
    for (int k = 0; k < nz; ++k)
    {
      for (int j = 0; j < ny; ++j)
      {
        for (int i = 0; i < nx; ++i)
        {
          values[(static_cast<std::size_t>(k) * ny + j) * nx + i] =
            static_cast<short>(huAt(i, j, k, true));
        }
      }
    }
    struct Output
    {
      const char* name;
      itk::ImageIOBase::Pointer io;
      bool compress;
    };
    const Output outputs[] = {
      { "ct.nrrd", itk::NrrdImageIO::New().GetPointer(), true },
      { "ct_raw.nrrd", itk::NrrdImageIO::New().GetPointer(), false },
      { "ct_raw.nhdr", itk::NrrdImageIO::New().GetPointer(), false },
      { "ct.nii.gz", itk::NiftiImageIO::New().GetPointer(), true },
      { "ct.nii", itk::NiftiImageIO::New().GetPointer(), false },
      { "ct.mha", itk::MetaImageIO::New().GetPointer(), false },
      { "ct.mhd", itk::MetaImageIO::New().GetPointer(), false },
    };
    for (const Output& output : outputs)
    {
      auto writer = itk::ImageFileWriter<ShortImage>::New();
      writer->SetImageIO(output.io);
      writer->SetInput(volume);
      writer->SetFileName(folder + "/" + output.name);
      writer->SetUseCompression(output.compress);
      writer->Update();
    }
  }
  catch (const itk::ExceptionObject& exception)
  {
    error = std::string("writing the test volumes failed: ") + exception.GetDescription();
    return false;
  }

  std::ofstream json(folder + "/geometry.json");
  json << "{\n  \"dimensions\": [" << nx << ", " << ny << ", " << nz << "],\n"
       << "  \"spacing\": [" << number(geometry.spacing[0]) << ", " << number(geometry.spacing[1])
       << ", " << number(geometry.spacing[2]) << "],\n"
       << "  \"origin\": [" << number(geometry.origin[0]) << ", " << number(geometry.origin[1])
       << ", " << number(geometry.origin[2]) << "],\n  \"direction\": [";
  for (int entry = 0; entry < 9; ++entry)
  {
    json << (entry ? ", " : "") << number(geometry.direction[entry]);
  }
  json << "],\n  \"hu\": \"code = 37 i + 101 j + 211 k; DICOM: -1024 + 0.5 (code mod 8190); "
          "files: -1024 + (code mod 4095)\",\n"
       << "  \"dicom_series_uid\": \"1.2.826.0.1.3680043.9.7133.1.2\",\n"
       << "  \"scout_series_uid\": \"1.2.826.0.1.3680043.9.7133.1.3\"\n}\n";
  if (!json)
  {
    error = "cannot write " + folder + "/geometry.json";
    return false;
  }
  return true;
}

} // namespace testvolumes
} // namespace ibc
