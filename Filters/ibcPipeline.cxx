// SPDX-License-Identifier: BSD-3-Clause
#include "ibcPipeline.h"

#include <vtkDataArray.h>
#include <vtkDataSetAttributes.h>
#include <vtkExtentTranslator.h>
#include <vtkInformation.h>
#include <vtkNew.h>
#include <vtkSMPThreadLocal.h>
#include <vtkSMPTools.h>
#include <vtkStreamingDemandDrivenPipeline.h>

#include <cmath>

namespace ibc
{
void requestVolumePiece(vtkInformation* volumeInfo, int piece, int pieces, int ghosts)
{
  volumeInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER(), 0);
  volumeInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES(), 1);
  volumeInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_GHOST_LEVELS(), 0);
  if (!volumeInfo->Has(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT()))
  {
    return;
  }
  int whole[6];
  int extent[6];
  volumeInfo->Get(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), whole);
  vtkNew<vtkExtentTranslator> translator;
  translator->PieceToExtentThreadSafe(
    piece, pieces, ghosts, whole, extent, vtkExtentTranslator::BLOCK_MODE, 0);
  volumeInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_EXTENT(), extent, 6);
}

void cacheArrayRanges(vtkDataSetAttributes* attributes)
{
  for (int a = 0; attributes && a < attributes->GetNumberOfArrays(); ++a)
  {
    vtkDataArray* array = attributes->GetArray(a);
    if (!array)
    {
      continue;
    }
    // The information pass asks for each component's range and finite range, and for the
    // norm's range of an array with several components.
    const int components = array->GetNumberOfComponents();
    for (int c = components > 1 ? -1 : 0; c < components; ++c)
    {
      double range[2];
      array->GetRange(range, c);
      array->GetFiniteRange(range, c);
    }
  }
}

long long countNonFinite(vtkDataArray* array)
{
  if (!array || (array->GetDataType() != VTK_FLOAT && array->GetDataType() != VTK_DOUBLE))
  {
    return 0;
  }
  const vtkIdType count = array->GetNumberOfTuples();
  const int components = array->GetNumberOfComponents();
  vtkSMPThreadLocal<long long> found(0);
  auto scan = [&](auto* values)
  {
    vtkSMPTools::For(0,
      count,
      [&](vtkIdType begin, vtkIdType end)
      {
        long long& local = found.Local();
        for (vtkIdType i = begin; i < end; ++i)
        {
          local += std::isfinite(values[i * components]) ? 0 : 1;
        }
      });
  };
  if (array->GetDataType() == VTK_FLOAT)
  {
    scan(static_cast<const float*>(array->GetVoidPointer(0)));
  }
  else
  {
    scan(static_cast<const double*>(array->GetVoidPointer(0)));
  }
  long long total = 0;
  for (const long long n : found)
  {
    total += n;
  }
  return total;
}

vtkDataArray* selectedOrActiveScalars(vtkDataArray* selected,
  const char* selectedName,
  vtkDataSetAttributes* pointData,
  std::string& note)
{
  note.clear();
  if (selected)
  {
    return selected;
  }
  vtkDataArray* active = pointData ? pointData->GetScalars() : nullptr;
  const std::string wanted = selectedName ? selectedName : "";
  if (active && !wanted.empty())
  {
    note = "Scalars names '" + wanted + "', which the volume does not have: reading its active " +
      "scalars '" + (active->GetName() ? active->GetName() : "") +
      "' instead (choose the array holding HU in Scalars).";
  }
  return active;
}
} // namespace ibc
