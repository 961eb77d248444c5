// SPDX-License-Identifier: BSD-3-Clause
// ibcWriteTestVolumes <folder>: writes the CT Volume Reader's test volumes (see ibcTestVolumes.h).
#include "ibcTestVolumes.h"

#include <iostream>

int main(int argc, char* argv[])
{
  if (argc != 2)
  {
    std::cerr << "usage: " << argv[0] << " <folder>\n";
    return 2;
  }
  std::string error;
  if (!ibc::testvolumes::writeAll(argv[1], error))
  {
    std::cerr << error << "\n";
    return 1;
  }
  return 0;
}
