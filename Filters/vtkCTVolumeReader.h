// SPDX-License-Identifier: BSD-3-Clause
/**
 * @class   vtkCTVolumeReader
 * @brief   reads a CT (DICOM series, NRRD, NIfTI, MetaImage) in HU with its true geometry
 *
 * The output is a vtkImageData whose point array `HU` holds Hounsfield units (rescale applied)
 * and whose origin, spacing and direction matrix place every voxel where the scanner put it,
 * in LPS millimetres (ITK's and DICOM's convention) or, with OutputCoordinates = RAS, in 3D
 * Slicer's convention (x and y negated; the voxel values are not moved).
 *
 * FileName is a file, or a folder (or any file) of a DICOM series. When the folder holds
 * several series, Series chooses one (by label or Series Instance UID); AvailableSeries lists
 * them. The reader reports CAN_PRODUCE_SUB_EXTENT: under MPI every rank reads only its piece
 * (only its slices' files for DICOM; its region of an uncompressed MetaImage or raw NRRD;
 * compressed NRRD and NIfTI are decoded whole on each rank and cropped).
 *
 * The reading itself lives in ibcCTVolumeIO.h.
 */
#ifndef vtkCTVolumeReader_h
#define vtkCTVolumeReader_h

#include "ImplantBoneContactFiltersModule.h" // for export macro
#include "vtkImageAlgorithm.h"
#include "vtkNew.h" // for vtkNew

#include <memory> // for std::unique_ptr
#include <string> // for std::string

class vtkStringArray;

namespace ibc
{
namespace ct
{
class VolumeFile;
}
}

class IMPLANTBONECONTACTFILTERS_EXPORT vtkCTVolumeReader : public vtkImageAlgorithm
{
public:
  static vtkCTVolumeReader* New();
  vtkTypeMacro(vtkCTVolumeReader, vtkImageAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum CoordinateSystem
  {
    LPS = 0,
    RAS = 1
  };

  ///@{
  /// A volume file, or a DICOM folder (or any file in it).
  vtkSetStdStringFromCharMacro(FileName);
  vtkGetCharFromStdStringMacro(FileName);
  ///@}

  ///@{
  /// The DICOM series to read: its label (as in AvailableSeries) or Series Instance UID.
  /// Empty reads the series with the most slices.
  vtkSetStdStringFromCharMacro(Series);
  vtkGetCharFromStdStringMacro(Series);
  ///@}

  ///@{
  /// LPS (default; ITK, DICOM) or RAS (3D Slicer, and STL files saved from it).
  vtkSetClampMacro(OutputCoordinates, int, LPS, RAS);
  vtkGetMacro(OutputCoordinates, int);
  ///@}

  /// Labels of the series found in the DICOM folder (empty for other formats).
  vtkStringArray* GetAvailableSeries();

  /// Whether this reader can read `path` (used by ParaView's reader factory).
  int CanReadFile(const char* path);

protected:
  vtkCTVolumeReader();
  ~vtkCTVolumeReader() override;

  int FillOutputPortInformation(int port, vtkInformation* info) override;
  int RequestInformation(vtkInformation* request,
    vtkInformationVector** inputs,
    vtkInformationVector* outputs) override;
  int RequestData(vtkInformation* request,
    vtkInformationVector** inputs,
    vtkInformationVector* outputs) override;

  std::string FileName;
  std::string Series;
  int OutputCoordinates = LPS;

private:
  vtkCTVolumeReader(const vtkCTVolumeReader&) = delete;
  void operator=(const vtkCTVolumeReader&) = delete;

  /// Opens the file when FileName or Series changed since the last open.
  bool UpdateVolumeFile();

  std::unique_ptr<ibc::ct::VolumeFile> Volume;
  std::string OpenedKey;
  bool OpenedOK = false;
  std::string OpenError;
  vtkNew<vtkStringArray> SeriesLabels;
};

#endif
