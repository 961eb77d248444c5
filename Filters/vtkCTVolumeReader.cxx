// SPDX-License-Identifier: BSD-3-Clause
#include "vtkCTVolumeReader.h"

#include "ibcPipeline.h"
#include "ibcCTVolumeIO.h"
#include "ibcSurfaceArrays.h"

#include "vtkDataObject.h"
#include "vtkExtentTranslator.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkInformationIntegerRequestKey.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkShortArray.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"

#include <sys/stat.h>

vtkStandardNewMacro(vtkCTVolumeReader);

namespace
{
void reportProgress(void* reader, double fraction)
{
  static_cast<vtkCTVolumeReader*>(reader)->UpdateProgress(0.05 + 0.95 * fraction);
}

/// Changes when the file or folder on disk changes, so a re-written file is read again.
std::string modificationStamp(const std::string& path)
{
  struct stat info;
  if (stat(path.c_str(), &info) != 0)
  {
    return "missing";
  }
  return std::to_string(static_cast<long long>(info.st_mtime)) + "." +
    std::to_string(static_cast<long long>(info.st_size));
}
}

vtkCTVolumeReader::vtkCTVolumeReader()
  : Volume(new ibc::ct::VolumeFile)
{
  this->SetNumberOfInputPorts(0);
  this->SetNumberOfOutputPorts(1);
}

vtkCTVolumeReader::~vtkCTVolumeReader() = default;

void vtkCTVolumeReader::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << this->FileName << "\n";
  os << indent << "Series: " << this->Series << "\n";
  os << indent << "OutputCoordinates: " << (this->OutputCoordinates == RAS ? "RAS" : "LPS") << "\n";
}

int vtkCTVolumeReader::FillOutputPortInformation(int, vtkInformation* info)
{
  info->Set(vtkDataObject::DATA_TYPE_NAME(), "vtkImageData");
  return 1;
}

int vtkCTVolumeReader::CanReadFile(const char* path)
{
  if (!path)
  {
    return 0;
  }
  ibc::ct::VolumeFile probe;
  std::string error;
  return probe.open(path, "", error) ? 1 : 0;
}

vtkStringArray* vtkCTVolumeReader::GetAvailableSeries()
{
  this->UpdateVolumeFile();
  return this->SeriesLabels;
}

bool vtkCTVolumeReader::UpdateVolumeFile()
{
  const std::string key =
    this->FileName + '\n' + this->Series + '\n' + modificationStamp(this->FileName);
  if (key == this->OpenedKey)
  {
    return this->OpenedOK;
  }
  this->OpenedKey = key;
  this->OpenError.clear();
  this->OpenedOK = this->Volume->open(this->FileName, this->Series, this->OpenError);
  this->SeriesLabels->Initialize();
  for (const ibc::ct::DicomSeries& series : this->Volume->series())
  {
    this->SeriesLabels->InsertNextValue(series.label);
  }
  if (this->OpenedOK)
  {
    for (const std::string& warning : this->Volume->warnings())
    {
      vtkWarningMacro("CT Volume Reader: " << warning << ".");
    }
  }
  return this->OpenedOK;
}

int vtkCTVolumeReader::RequestInformation(vtkInformation*,
  vtkInformationVector**,
  vtkInformationVector* outputs)
{
  if (!this->UpdateVolumeFile())
  {
    vtkErrorMacro("CT Volume Reader: " << this->OpenError << ".");
    return 0;
  }
  ibc::ct::Geometry geometry = this->Volume->geometry();
  if (this->OutputCoordinates == RAS)
  {
    geometry = ibc::ct::flipLPSRAS(geometry);
  }
  const int extent[6] = {
    0, geometry.dimensions[0] - 1, 0, geometry.dimensions[1] - 1, 0, geometry.dimensions[2] - 1
  };
  const double spacing[3] = { geometry.spacing.x, geometry.spacing.y, geometry.spacing.z };
  const double origin[3] = { geometry.origin.x, geometry.origin.y, geometry.origin.z };

  vtkInformation* info = outputs->GetInformationObject(0);
  info->Set(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), extent, 6);
  info->Set(vtkDataObject::SPACING(), spacing, 3);
  info->Set(vtkDataObject::ORIGIN(), origin, 3);
  info->Set(vtkDataObject::DIRECTION(), geometry.direction.data(), 9);
  info->Set(vtkAlgorithm::CAN_PRODUCE_SUB_EXTENT(), 1);
  // Pieces as slabs of whole slices: a DICOM rank then opens only its own slices' files, and a
  // raw file is read in contiguous runs.
  info->Set(
    vtkExtentTranslator::UPDATE_SPLIT_MODE(), static_cast<int>(vtkExtentTranslator::Z_SLAB_MODE));
  vtkDataObject::SetPointDataActiveScalarInfo(
    info, this->Volume->needsFloat() ? VTK_FLOAT : VTK_SHORT, 1);
  return 1;
}

int vtkCTVolumeReader::RequestData(vtkInformation*,
  vtkInformationVector**,
  vtkInformationVector* outputs)
{
  vtkInformation* info = outputs->GetInformationObject(0);
  vtkImageData* image = vtkImageData::GetData(info);
  if (!image || !this->UpdateVolumeFile())
  {
    vtkErrorMacro("CT Volume Reader: " << this->OpenError << ".");
    return 0;
  }
  ibc::ct::Geometry geometry = this->Volume->geometry();
  if (this->OutputCoordinates == RAS)
  {
    geometry = ibc::ct::flipLPSRAS(geometry);
  }
  int extent[6] = {
    0, geometry.dimensions[0] - 1, 0, geometry.dimensions[1] - 1, 0, geometry.dimensions[2] - 1
  };
  if (info->Has(vtkStreamingDemandDrivenPipeline::UPDATE_EXTENT()))
  {
    info->Get(vtkStreamingDemandDrivenPipeline::UPDATE_EXTENT(), extent);
  }
  image->SetExtent(extent);
  image->SetSpacing(geometry.spacing.x, geometry.spacing.y, geometry.spacing.z);
  image->SetOrigin(geometry.origin.x, geometry.origin.y, geometry.origin.z);
  image->SetDirectionMatrix(geometry.direction.data());

  const vtkIdType voxels = image->GetNumberOfPoints();
  vtkSmartPointer<vtkDataArray> hu;
  if (voxels > 0)
  {
    this->UpdateProgress(0.05);
    std::string error;
    bool ok = false;
    if (this->Volume->needsFloat())
    {
      vtkNew<vtkFloatArray> values;
      values->SetNumberOfTuples(voxels);
      ok = this->Volume->read(extent, values->GetPointer(0), error, reportProgress, this);
      hu = values;
    }
    else
    {
      vtkNew<vtkShortArray> values;
      values->SetNumberOfTuples(voxels);
      ok = this->Volume->read(extent, values->GetPointer(0), error, reportProgress, this);
      hu = values;
    }
    if (!ok)
    {
      vtkErrorMacro("CT Volume Reader: " << error << ".");
      image->Initialize();
      return 0;
    }
  }
  else
  {
    hu = vtkSmartPointer<vtkShortArray>::New();
  }
  hu->SetName("HU");
  image->GetPointData()->SetScalars(hu);
  ibc::cacheArrayRanges(image->GetPointData());

  // Where the volume came from and in which coordinates, for the filters downstream (they
  // name the likely fix when a surface and this volume do not overlap).
  vtkFieldData* field = image->GetFieldData();
  field->AddArray(
    ibc::fieldString("CoordinateSystem", this->OutputCoordinates == RAS ? "RAS" : "LPS"));
  field->AddArray(ibc::fieldString("SourceFormat", ibc::ct::formatName(this->Volume->format())));
  if (this->Volume->selectedSeries() >= 0)
  {
    field->AddArray(ibc::fieldString(
      "SeriesInstanceUID", this->Volume->series()[this->Volume->selectedSeries()].uid));
  }
  this->UpdateProgress(1.0);
  return 1;
}
