"""THA Phantom through the plugin in pvpython: geometry, HU by tissue, blooming width, noise,
ground truth against the volume's own labels, and a closed, outward stem surface."""
import math

import numpy as np
from paraview import servermanager
from paraview.simple import *  # noqa: F401,F403

import ibctest

ibctest.load_plugin(globals())
checks = ibctest.Checker("TestTHAPhantom")

# --- Default phantom: what a user gets from Sources > Implant Bone Contact > THA Phantom.
phantom = THAPhantom()
phantom.UpdatePipeline()
checks.check(ibctest.uncached_ranges(phantom) == [],
             "the volume's array ranges are computed with it (threaded): ParaView's information pass "
             "walks no voxel when a filter is added (uncached: %s)" % ibctest.uncached_ranges(phantom))
image = servermanager.Fetch(phantom, idx=0)
surface = servermanager.Fetch(phantom, idx=1)
dims = image.GetDimensions()
spacing = image.GetSpacing()
checks.check(all(abs(s - e) < 1e-9 for s, e in zip(spacing, (0.7, 0.7, 1.0))), "spacing %s" % (spacing,))
checks.check(image.GetPointData().GetArray("HU").GetDataTypeAsString() == "short", "HU stored as int16")
bounds = surface.GetBounds()
checks.check(bounds[1] < 0, "right femur lies at negative x (patient right in LPS): x max %.1f" % bounds[1])
size = [bounds[1] - bounds[0], bounds[3] - bounds[2], bounds[5] - bounds[4]]
checks.check(45 < size[0] < 60 and 9.9 < size[1] < 10.1 and 150 < size[2] < 175,
             "stem size %.1f x %.1f x %.1f mm (ML x AP x height)" % tuple(size))

# Closed, manifold, outward.
from vtkmodules.vtkFiltersCore import vtkMassProperties, vtkTriangleFilter
open_edges = ibctest.open_or_nonmanifold_edges(surface)
checks.check(open_edges == 0, "surface closed and manifold: %d boundary/non-manifold edges" % open_edges)
mass = vtkMassProperties()
mass.SetInputData(surface)
mass.Update()
checks.check(mass.GetVolume() > 20000, "stem volume %.0f mm3" % mass.GetVolume())
# Outward: the volume from the oriented triangles is positive.
pts = ibctest.array(surface, "TrueNormals")
from vtkmodules.util.numpy_support import vtk_to_numpy
xyz = vtk_to_numpy(surface.GetPoints().GetData())
tris = vtk_to_numpy(surface.GetPolys().GetConnectivityArray()).reshape(-1, 3)
signed = np.einsum("ij,ij->i", xyz[tris[:, 0]], np.cross(xyz[tris[:, 1]], xyz[tris[:, 2]])).sum() / 6
checks.check(signed > 0, "triangles oriented outward (signed volume %.0f)" % signed)
# CAD-like: slivers and fans.
a = np.linalg.norm(xyz[tris[:, 1]] - xyz[tris[:, 0]], axis=1)
b = np.linalg.norm(xyz[tris[:, 2]] - xyz[tris[:, 1]], axis=1)
c = np.linalg.norm(xyz[tris[:, 0]] - xyz[tris[:, 2]], axis=1)
aspect = np.maximum(np.maximum(a, b), c) / np.maximum(np.minimum(np.minimum(a, b), c), 1e-12)
checks.check(np.mean(aspect > 10) > 0.2, "irregular CAD triangles: %.0f %% with aspect > 10" % (100 * np.mean(aspect > 10)))

# --- HU by tissue far from edges, and the noise level (default noise sigma 20 HU).
hu = ibctest.image_array(image, "HU").astype(float)
labels = ibctest.image_array(image, "TissueLabel")
from scipy import ndimage  # noqa: E402  (python3-scipy comes with python3-paraview)
expected = {0: -1000, 1: -100, 2: 50, 3: 0, 5: 300, 6: 1400}
for label, value in expected.items():
    core = ndimage.binary_erosion(labels == label, iterations=3)
    values = hu[core]
    checks.check(values.size > 100, "label %d has %d voxels far from edges" % (label, values.size))
    if values.size:
        # Beam-hardening streaks and the air clip at -1024 shift some tissues a little.
        checks.near(np.median(values), value, 30 if label != 0 else 26, "median HU of label %d" % label)
muscle = hu[ndimage.binary_erosion(labels == 2, iterations=3)]
checks.near(np.std(muscle), 20.0, 3.0, "noise std in muscle (HU)")
metal = hu[labels == 7]
checks.check(metal.max() <= 3071 and np.mean(metal >= 3071) > 0.5,
             "metal clipped at 3071: max %.0f, %.0f %% at the clip" % (metal.max(), 100 * np.mean(metal >= 3071)))

# --- Ground truth against the volume's own labels, read at the truth distance.
truth_class = ibctest.array(surface, "TrueTissueClass")
zones = ibctest.array(surface, "TrueGruenZone")
normals = ibctest.array(surface, "TrueNormals")
distance = surface.GetFieldData().GetArray("TruthDistance").GetValue(0)
origin = np.array(image.GetOrigin())
probe = xyz + distance * normals
index = np.rint((probe - origin) / np.array(spacing)).astype(int)
inside = np.all((index >= 0) & (index < np.array(dims)), axis=1)
label_at = labels[index[inside, 2], index[inside, 1], index[inside, 0]]
class_of_label = np.array([1, 1, 1, 1, 1, 2, 3, 0])
agree = np.mean(class_of_label[label_at] == truth_class[inside])
checks.check(inside.all(), "every truth point inside the volume")
checks.check(agree > 0.9, "TrueTissueClass agrees with the nearest voxel's label: %.1f %%" % (100 * agree))
checks.check(set(np.unique(zones)) == set(range(15)), "all Gruen zones present: %s" % sorted(set(np.unique(zones))))
in_bone = zones > 0
shares = [np.mean(truth_class[in_bone] == k) for k in (1, 2, 3)]
checks.check(min(shares) > 0.1, "designed pattern mixes classes: soft %.2f cancellous %.2f cortical %.2f" % tuple(shares))

# --- Blooming width as set: the metal adds 2.3 % of its contrast at the blooming width.
# Noise, blur, beam hardening, clipping and partial-volume supersampling off; float output.
def apparent_blooming(width):
    clean = THAPhantom(BloomingWidth=width, NoiseSigma=0, BlurSigma=0, BeamHardening=0, Clip=0,
                       Supersampling=1, OutputScalarType="Float", CancellousTexture=0)
    img = servermanager.Fetch(clean, idx=0)
    surf = servermanager.Fetch(clean, idx=1)
    Delete(clean)
    values = ibctest.image_array(img, "HU").astype(float)
    sxyz = vtk_to_numpy(surf.GetPoints().GetData())
    snormals = ibctest.array(surf, "TrueNormals")
    szones = ibctest.array(surf, "TrueGruenZone")
    medial = np.array(surf.GetFieldData().GetArray("StemMedialDirection").GetTuple3(0))
    tip = np.array(surf.GetFieldData().GetArray("StemTipPoint").GetTuple3(0))
    level = (sxyz - tip)[:, 2]
    # A vertex on the distal-lateral side (cortical contact, 7 mm of cortical bone outside).
    candidates = np.where((szones == 3) & (snormals @ medial < -0.99) & (level > 25) & (level < 40))[0]
    vertex = sxyz[candidates[0]]
    o = np.array(img.GetOrigin())
    sp = np.array(img.GetSpacing())
    j = int(round((vertex[1] - o[1]) / sp[1]))
    k = int(round((vertex[2] - o[2]) / sp[2]))
    # The surface crossing of this voxel row, from the mesh (exact on the straight lateral side).
    from vtkmodules.vtkFiltersGeneral import vtkOBBTree
    from vtkmodules.vtkCommonCore import vtkPoints
    tree = vtkOBBTree()
    tree.SetDataSet(surf)
    tree.BuildLocator()
    row_y = o[1] + j * sp[1]
    row_z = o[2] + k * sp[2]
    hits = vtkPoints()
    lateral_sign = -np.sign(medial[0])
    tree.IntersectWithLine([vertex[0] - lateral_sign * 5, row_y, row_z],
                           [vertex[0] + lateral_sign * 20, row_y, row_z], hits, None)
    crossing = hits.GetPoint(0)[0]
    xs = o[0] + sp[0] * np.arange(img.GetDimensions()[0])
    outside = (xs - crossing) * lateral_sign
    # The lateral side leans 1.7 degrees from the axis: distance along the normal.
    dist = outside * abs(snormals[candidates[0]] @ np.array([1.0, 0, 0]))
    excess = (values[k, j, :] - 1400.0) / (6000.0 - 1400.0)
    sel = (dist > 0.2) & (dist < 4.0) & (excess > 1e-6)
    # Distance where the excess falls to 2.275 % (log-linear between neighbouring voxels).
    d = dist[sel]
    e = np.log(excess[sel])
    order = np.argsort(d)
    return float(np.interp(-math.log(0.02275), -e[order], d[order]))

for width in (1.0, 2.0):
    measured = apparent_blooming(width)
    voxel_variance = 0.7 ** 2 / 12  # the voxel's own box along x
    checks.near(measured, math.sqrt(width ** 2 + 4 * voxel_variance), 0.12,
                "apparent blooming width (mm) for Blooming Width %.1f" % width)

checks.finish()
