"""A second post-operative hip CT phantom (a femoral stem in a femur), written from the physics
alone by a session that had not read the THA Phantom's code, so that the tests do not only check
the probe against the scene it was developed on. It differs from the THA Phantom on purpose: a
rounded-rectangle stem tapering to an 8 mm tip, the metal's blooming as a real 2D blur of the
metal (optionally with exponential or Lorentzian tails), several streaks with bright flanks,
correlated noise, and the tissue as layers whose thicknesses vary smoothly around the stem.
Used by TestIndependentPhantom.py.

Everything is defined analytically in a local stem frame (u, v, w), mm:
  u = medial, v = anterior-posterior, w = along the stem axis (w = 0 at the tip apex,
  w = L at the shoulder).  Global (LPS-like) coordinates p = R @ (u, v, w), R a small
  varus/flexion tilt, so z is (nearly) along the stem.

Stem: tapered extrusion of a rounded rectangle (half-widths a(w), b(w), corner radius r(w)),
hemispherical tip of radius r_tip, flat shoulder with rounded edges.  Signed distance d
(exact for the 2D cross-section, the taper is < 4 degrees).

Tissue outside the stem, as layers in d whose boundaries depend on (theta, w):
  [0, m)            non-bone layer: fibrous membrane (patches; m = 0 elsewhere)
                    (below the tip centre the layering continues as a cylinder and the
                    non-bone layer is marrow)
  [m, m + Lc)       cancellous bone (Lc = 0 where the contact is cortical), trabecular texture
  [.., + tc)        cortical shell, 2-6 mm
  [.., + tm)        muscle, then fat
  above the (oblique) resection plane: soft tissue (capsule) only.

Scanner forward model (see make_ct): tissue image on a fine grid, antialiased,
 * tissue: Gaussian PSF in-plane, pixel box aperture, slice profile = box(thickness) * Gaussian
 * metal:  M * indicator blurred by a wider blooming kernel: Gaussian core (sigma_b) plus
           optional heavy tail (exponential or 2D-Lorentzian), and in z box * Gaussian
           (sqrt(sigma_z^2 + (zf*sigma_b)^2))
 * streaks (dark along the longest metal path, bright flanks, 2 extra), dark halo,
   Gaussian noise (correlated, stronger near metal), clip [-1024, 3071], int16.
"""
import math
import time
import numpy as np
from scipy import ndimage, signal
from scipy.special import erf

DEFAULTS = dict(
    seed=11,
    # ---- stem geometry (mm)
    L=130.0, r_tip=4.0, a_top=11.0, b_top=7.0, r_top=3.0, p_a=1.6, p_b=1.3, top_round=2.0,
    tilt_x_deg=2.0, tilt_y_deg=-1.5,
    # ---- tissue
    membrane_mode='uniform',        # 'uniform' | 'varying' | 'none'
    membrane_mm=2.0,                # thickness in patches (uniform mode)
    membrane_range=(0.5, 3.0),      # varying mode: edge -> centre of patch
    membrane_hu=(15.0, 60.0),       # per-patch level
    cort_hu=(1250.0, 1850.0), cort_thick=(2.0, 6.0),
    canc_hu=(230.0, 380.0), canc_thick=(3.0, 8.0),
    trab_amp=90.0, trab_lambda=(1.4, 2.8),
    muscle_hu=50.0, fat_hu=-90.0, marrow_hu=-30.0, muscle_thick=(6.0, 14.0),
    top_soft_hu=40.0, resect_below_top=8.0, resect_slope=0.3,
    # ---- scanner
    vox=0.7, slice_thick=1.0, slice_spacing=None,
    psf_fwhm_xy=0.8, psf_fwhm_z=0.7,
    metal_hu=6000.0, bloom_sigma=1.2, bloom_z_factor=0.5,
    tail_frac=0.0, tail_type='exp', tail_len=3.0,
    head=False, head_metal_hu=None, head_radius=16.0, head_gap=6.0, head_offset_u=24.0,
    streak_amp=80.0, streak_width=1.5, streak_len=30.0,
    halo_amp=0.0, halo_len=1.5,
    noise=20.0, noise_corr=0.6, noise_metal_boost=0.5,
    metal_mix='additive',           # 'additive': T(1-I)*psf + M I*bloom ; 'replace': T*psf*(1-W) + M W
    fov_x=(-40.0, 48.0), fov_y=(-34.0, 34.0),
    mesh_h=0.55,
)


def params(**kw):
    P = dict(DEFAULTS)
    for k in kw:
        if k not in P:
            raise KeyError(k)
    P.update(kw)
    if P['slice_spacing'] is None:
        P['slice_spacing'] = P['slice_thick']
    if P['head_metal_hu'] is None:
        P['head_metal_hu'] = P['metal_hu']
    return P


def rotation(P):
    ax = math.radians(P['tilt_x_deg'])
    ay = math.radians(P['tilt_y_deg'])
    Ry = np.array([[math.cos(ax), 0, math.sin(ax)], [0, 1, 0], [-math.sin(ax), 0, math.cos(ax)]])
    Rx = np.array([[1, 0, 0], [0, math.cos(ay), -math.sin(ay)], [0, math.sin(ay), math.cos(ay)]])
    return Ry @ Rx


# ----------------------------------------------------------------------------- geometry
def stem_sdf(u, v, w, P):
    rt, L = P['r_tip'], P['L']
    xi = np.clip((w - rt) / (L - rt), 0.0, 1.0)
    a = rt + (P['a_top'] - rt) * xi ** P['p_a']
    b = rt + (P['b_top'] - rt) * xi ** P['p_b']
    r = rt + (P['r_top'] - rt) * xi
    qx = np.abs(u) - a + r
    qy = np.abs(v) - b + r
    sd2 = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - r
    sdt = np.sqrt(u * u + v * v + (w - rt) ** 2) - rt
    sd = np.where(w < rt, sdt, sd2)
    rho = P['top_round']
    e1 = sd + rho
    e2 = w - L + rho
    return np.hypot(np.maximum(e1, 0), np.maximum(e2, 0)) + np.minimum(np.maximum(e1, e2), 0) - rho


def head_center(P):
    return np.array([P['head_offset_u'], 0.0, P['L'] + P['head_gap'] + P['head_radius']])


def head_sdf(u, v, w, P):
    c = head_center(P)
    return np.sqrt((u - c[0]) ** 2 + (v - c[1]) ** 2 + (w - c[2]) ** 2) - P['head_radius']


def to_local(x, y, z, R):
    # local = R^T p
    u = R[0, 0] * x + R[1, 0] * y + R[2, 0] * z
    v = R[0, 1] * x + R[1, 1] * y + R[2, 1] * z
    w = R[0, 2] * x + R[1, 2] * y + R[2, 2] * z
    return u, v, w


# ----------------------------------------------------------------------------- tissue maps
class Maps:
    """Lookup tables over (theta, w) for the layer boundaries and tissue levels."""
    NT, W0, DW = 720, -20.0, 0.5

    def __init__(self, P):
        self.P = P
        rng = np.random.default_rng(P['seed'])
        L = P['L']
        self.NW = int((L + 40.0) / self.DW) + 1
        th = (np.arange(self.NT) + 0.5) / self.NT * 2 * np.pi - np.pi
        ww = self.W0 + np.arange(self.NW) * self.DW
        TH, WW = np.meshgrid(th, ww, indexing='ij')
        self.TH, self.WW = TH, WW

        def smooth_field(kmax=4, lmax=6):
            F = np.zeros_like(TH)
            for kk in range(kmax + 1):
                for ll in range(lmax + 1):
                    if kk == 0 and ll == 0:
                        continue
                    c = rng.normal() / (1.0 + kk + 0.7 * ll)
                    F += c * np.cos(kk * TH + rng.uniform(0, 2 * np.pi)) * \
                        np.cos(np.pi * ll * (WW - self.W0) / (L + 40.0) + rng.uniform(0, 2 * np.pi))
            F -= F.mean()
            return F / np.abs(F).max()          # in [-1, 1]

        def to_range(F, lo_hi):
            lo, hi = lo_hi
            return lo + (hi - lo) * 0.5 * (F + 1.0)

        # contact: g > 0 cortical contact; below 0 the cancellous layer thickens smoothly
        def sig(x):
            return 1.0 / (1.0 + np.exp(-x))
        s = sig((WW - 62.0) / 6.0)                                # 0 distal, 1 proximal
        g_dist = np.abs(np.cos(TH)) - 0.6                         # medial/lateral faces distal
        calcar = (np.cos(TH) - 0.75) * sig((WW - 92.0) / 3.0) - 0.4 * (1 - sig((WW - 92.0) / 3.0))
        lateral = (np.cos(TH - np.pi) - 0.85) * sig((WW - 62.0) / 3.0) * sig((96.0 - WW) / 3.0) \
            - 0.4 * (1 - sig((WW - 62.0) / 3.0) * sig((96.0 - WW) / 3.0))
        g_prox = np.maximum(calcar, lateral)
        g = (1 - s) * g_dist + s * g_prox + 0.2 * smooth_field()
        self.g_contact = g
        self.cort_contact = (g > 0).astype(np.float32)
        canc_max = to_range(smooth_field(), P['canc_thick'])
        canc = np.clip(-g * 16.0, 0.0, None)
        self.canc_thick_map = np.minimum(canc, canc_max).astype(np.float32)
        self.cort_thick = to_range(smooth_field(), P['cort_thick']).astype(np.float32)
        self.cort_hu = to_range(smooth_field(), P['cort_hu']).astype(np.float32)
        self.canc_hu = to_range(smooth_field(), P['canc_hu']).astype(np.float32)
        self.muscle_thick = to_range(smooth_field(), P['muscle_thick']).astype(np.float32)

        # membrane patches: (theta centre, w centre, half angle rad, half height mm)
        patches = [(np.pi, 100.0, 0.85, 13.0),      # proximal lateral
                   (0.15, 68.0, 0.8, 11.0),         # medial, mid
                   (np.pi / 2, 36.0, 0.8, 11.0),    # anterior/posterior face, distal
                   (-np.pi / 2, 84.0, 0.7, 11.0),   # the other face, proximal
                   (-2.4, 16.0, 0.9, 8.0),          # near the tip
                   (2.3, 116.0, 0.6, 6.0)]          # proximal, below the resection
        mem = np.zeros_like(TH)
        memhu = np.full_like(TH, np.mean(P['membrane_hu']))
        for (tc, wc, ha, hh) in patches:
            dth = np.angle(np.exp(1j * (TH - tc)))
            q = (dth / ha) ** 2 + ((WW - wc) / hh) ** 2
            inside = q < 1.0
            if P['membrane_mode'] == 'uniform':
                val = np.full_like(TH, P['membrane_mm'])
            elif P['membrane_mode'] == 'varying':
                lo, hi = P['membrane_range']
                val = lo + (hi - lo) * (1.0 - q)
            else:
                val = np.zeros_like(TH)
            mem = np.where(inside, np.maximum(mem, val), mem)
            memhu = np.where(inside, rng.uniform(*P['membrane_hu']), memhu)
        self.mem = mem.astype(np.float32)
        self.mem_hu = memhu.astype(np.float32)
        self.patches = patches

        # trabecular texture: sum of plane waves
        nk = 6
        dirs = rng.normal(size=(nk, 3))
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        lam = rng.uniform(*P['trab_lambda'], size=nk)
        self.tex_k = (dirs * (2 * np.pi / lam)[:, None]).astype(np.float32)
        self.tex_phi = rng.uniform(0, 2 * np.pi, size=nk).astype(np.float32)

    def index(self, u, v, w):
        th = np.arctan2(v, u)
        ti = ((th + np.pi) * (self.NT / (2 * np.pi))).astype(np.int32)
        np.clip(ti, 0, self.NT - 1, out=ti)
        wi = ((w - self.W0) / self.DW + 0.5).astype(np.int32)
        np.clip(wi, 0, self.NW - 1, out=wi)
        return ti * self.NW + wi

    def texture(self, u, v, w):
        t = np.zeros_like(u)
        for k, ph in zip(self.tex_k, self.tex_phi):
            t += np.cos(k[0] * u + k[1] * v + k[2] * w + ph)
        return np.clip(t / 2.0, -1.0, 1.0)


def layers(u, v, w, P, maps, d=None):
    if d is None:
        d = stem_sdf(u, v, w, P)
    idx = maps.index(u, v, w)
    below = w < P['r_tip']
    dl = np.where(below, np.hypot(u, v) - P['r_tip'], d)
    b1 = np.take(maps.mem, idx)
    b2 = b1 + np.take(maps.canc_thick_map, idx)
    b3 = b2 + np.take(maps.cort_thick, idx)
    b4 = b3 + np.take(maps.muscle_thick, idx)
    wres = P['L'] - P['resect_below_top'] + P['resect_slope'] * u
    return dict(d=d, dl=dl, idx=idx, below=below, b1=b1, b2=b2, b3=b3, b4=b4, wres=wres)


# label codes: 0 metal, 1 soft, 2 cancellous, 3 cortical ; layer: 0 metal 1 membrane 2 canc
# 3 cort 4 muscle 5 fat 6 marrow 7 soft above resection 8 head metal
def labels(u, v, w, P, maps):
    Ly = layers(u, v, w, P, maps)
    dl = Ly['dl']
    lay = np.where(dl < Ly['b1'], np.where(Ly['below'], 6, 1),
                   np.where(dl < Ly['b2'], 2, np.where(dl < Ly['b3'], 3,
                                                       np.where(dl < Ly['b4'], 4, 5))))
    lay = np.where(w > Ly['wres'], 7, lay)
    lay = np.where(Ly['d'] < 0, 0, lay)
    if P['head']:
        lay = np.where(head_sdf(u, v, w, P) < 0, 8, lay)
    cls = np.choose(lay, [0, 1, 2, 3, 1, 1, 1, 1, 0])
    return cls, lay


def tissue_hu(u, v, w, P, maps, h, d=None):
    """Antialiased tissue HU (ramps of width h across each layer boundary)."""
    Ly = layers(u, v, w, P, maps, d)
    dl, idx = Ly['dl'], Ly['idx']
    inv = np.float32(1.0 / h)

    def S(x):
        return np.clip(0.5 + x * inv, 0.0, 1.0)

    S1 = S(dl - Ly['b1'])
    S2 = S(dl - Ly['b2'])
    S3 = S(dl - Ly['b3'])
    S4 = S(dl - Ly['b4'])
    v0 = np.where(Ly['below'], np.float32(P['marrow_hu']), np.take(maps.mem_hu, idx))
    v1 = np.take(maps.canc_hu, idx)
    need = (S1 > 0) & (S2 < 1)
    if need.any():
        v1 = v1.copy()
        v1[need] += np.float32(P['trab_amp']) * maps.texture(u[need], v[need], w[need])
    vc = np.take(maps.cort_hu, idx)
    vm = np.float32(P['muscle_hu'])
    vf = np.float32(P['fat_hu'])
    hu = v0 + (v1 - v0) * S1 + (vc - v1) * S2 + (vm - vc) * S3 + (vf - vm) * S4
    sres = S(Ly['wres'] - w)
    hu = hu * sres + np.float32(P['top_soft_hu']) * (1 - sres)
    return hu.astype(np.float32), Ly['d']


# ----------------------------------------------------------------------------- CT
def _slice_profile(z, T, sigma):
    sigma = max(sigma, 1e-3)
    s2 = sigma * math.sqrt(2.0)
    return (erf((z + T / 2) / s2) - erf((z - T / 2) / s2)) / (2 * T)


def _tail_kernel(P, vox):
    lam = P['tail_len']
    R = 6.0 * lam if P['tail_type'] == 'exp' else 10.0 * lam
    R = min(R, 30.0)
    n = int(R / vox)
    x = np.arange(-n, n + 1) * vox
    X, Y = np.meshgrid(x, x, indexing='ij')
    r = np.hypot(X, Y)
    if P['tail_type'] == 'exp':
        K = np.exp(-r / lam)
    else:  # 2D Lorentzian (Cauchy), normalisable
        K = 1.0 / (1.0 + (r / lam) ** 2) ** 1.5
    K[r > R] = 0
    return K / K.sum()


def make_ct(P, verbose=True):
    """Returns dict with numpy volume (nz, ny, nx) int16, origin, spacing, and timing."""
    t0 = time.time()
    R = rotation(P)
    maps = Maps(P)
    vox, T, sp = P['vox'], P['slice_thick'], P['slice_spacing']
    k = max(2, int(round(vox / 0.22)))
    h = vox / k
    x0, x1 = P['fov_x']
    y0, y1 = P['fov_y']
    nx = int(round((x1 - x0) / vox))
    ny = int(round((y1 - y0) / vox))
    zlo = -10.0
    ztop = P['L'] * R[2, 2] + 10.0
    if P['head']:
        ztop = (P['L'] + P['head_gap'] + 2 * P['head_radius']) * R[2, 2] + 6.0
    nz = int(math.floor((ztop - zlo) / sp)) + 1
    ox, oy, oz = x0 + vox / 2, y0 + vox / 2, zlo
    zc = oz + np.arange(nz) * sp

    s_xy = P['psf_fwhm_xy'] / 2.3548
    s_z = P['psf_fwhm_z'] / 2.3548
    s_b = max(P['bloom_sigma'], s_xy)
    s_bz = math.sqrt(s_z ** 2 + (P['bloom_z_factor'] * P['bloom_sigma']) ** 2)
    hz = min(0.35, T / 3.0)
    marg = T / 2 + 4 * max(s_z, s_bz)
    zf = np.arange(zc[0] - marg, zc[-1] + marg + hz, hz)
    nzf = len(zf)
    nxf, nyf = nx * k, ny * k
    xf = (x0 + (np.arange(nxf) + 0.5) * h).astype(np.float32)
    yf = (y0 + (np.arange(nyf) + 0.5) * h).astype(np.float32)

    stackT = np.zeros((nx, ny, nzf), np.float32)
    stackM = np.zeros((nx, ny, nzf), np.float32)
    stackMr = np.zeros((nx, ny, nzf), np.float32)
    replace = P['metal_mix'] == 'replace'
    if replace:
        stackW = np.zeros((nx, ny, nzf), np.float32)
        stackWr = np.zeros((nx, ny, nzf), np.float32)
    Mst, Mhd = np.float32(P['metal_hu']), np.float32(P['head_metal_hu'])
    slab = max(4, int(2.5e6 // (nxf * nyf)))
    X = xf[:, None, None]
    Y = yf[None, :, None]
    for z_start in range(0, nzf, slab):
        zs = zf[z_start:z_start + slab].astype(np.float32)
        Z = zs[None, None, :]
        shape = (nxf, nyf, len(zs))
        u, v, w = to_local(X, Y, Z, R)
        u = np.broadcast_to(u, shape).astype(np.float32)
        v = np.broadcast_to(v, shape).astype(np.float32)
        w = np.broadcast_to(w, shape).astype(np.float32)
        hu, d = tissue_hu(u, v, w, P, maps, h)
        Is = np.clip(0.5 - d / h, 0, 1)
        Mf = Mst * Is
        Itot = Is
        if P['head']:
            dh = head_sdf(u, v, w, P)
            Ih = np.clip(0.5 - dh / h, 0, 1)
            Mf = Mf + Mhd * Ih
            Itot = np.clip(Is + Ih, 0, 1)
        Tt = hu if replace else hu * (1 - Itot)
        Tb = ndimage.gaussian_filter(Tt, (s_xy / h, s_xy / h, 0), mode='nearest', truncate=4.0)
        Mb = ndimage.gaussian_filter(Mf, (s_b / h, s_b / h, 0), mode='constant', truncate=4.0)
        nzs = len(zs)

        def block(a):
            return a.reshape(nx, k, ny, k, nzs).mean(axis=(1, 3))
        stackT[:, :, z_start:z_start + nzs] = block(Tb)
        stackM[:, :, z_start:z_start + nzs] = block(Mb)
        stackMr[:, :, z_start:z_start + nzs] = block(Mf)
        if replace:
            stackW[:, :, z_start:z_start + nzs] = block(
                ndimage.gaussian_filter(Itot, (s_b / h, s_b / h, 0), mode='constant', truncate=4.0))
            stackWr[:, :, z_start:z_start + nzs] = block(Itot)
    t1 = time.time()
    # slice profiles
    Wt = _slice_profile(zf[:, None] - zc[None, :], T, s_z) * hz
    Wm = _slice_profile(zf[:, None] - zc[None, :], T, s_bz) * hz
    Wt /= Wt.sum(axis=0, keepdims=True)
    Wm /= Wm.sum(axis=0, keepdims=True)
    CT_t = (stackT.reshape(-1, nzf) @ Wt.astype(np.float32)).reshape(nx, ny, nz)
    CT_m = (stackM.reshape(-1, nzf) @ Wm.astype(np.float32)).reshape(nx, ny, nz)
    if P['tail_frac'] > 0:
        Mr = (stackMr.reshape(-1, nzf) @ Wm.astype(np.float32)).reshape(nx, ny, nz)
        K = _tail_kernel(P, vox)[:, :, None]
        tail = signal.fftconvolve(Mr, K, mode='same', axes=(0, 1))
        CT_m = (1 - P['tail_frac']) * CT_m + P['tail_frac'] * tail.astype(np.float32)
    if replace:
        Wv = (stackW.reshape(-1, nzf) @ Wm.astype(np.float32)).reshape(nx, ny, nz)
        if P['tail_frac'] > 0:
            Wr = (stackWr.reshape(-1, nzf) @ Wm.astype(np.float32)).reshape(nx, ny, nz)
            Wv = (1 - P['tail_frac']) * Wv + P['tail_frac'] * \
                signal.fftconvolve(Wr, K, mode='same', axes=(0, 1)).astype(np.float32)
        CT_t = CT_t * (1 - np.clip(Wv, 0, 1))
        del stackW, stackWr
    del stackT, stackM, stackMr
    ct = CT_t + CT_m

    # output-grid geometry for artefacts
    xo = (ox + np.arange(nx) * vox).astype(np.float32)
    yo = (oy + np.arange(ny) * vox).astype(np.float32)
    Xo, Yo, Zo = np.meshgrid(xo, yo, zc.astype(np.float32), indexing='ij')
    u, v, w = to_local(Xo, Yo, Zo, R)
    d = stem_sdf(u, v, w, P)
    dpos = np.maximum(d, 0)
    rng = np.random.default_rng(P['seed'] + 1000)
    if P['head']:
        dh = head_sdf(u, v, w, P)
    # streaks
    if P['streak_amp'] > 0:
        A = P['streak_amp']
        streaks = [(0.0, -1.0), (np.radians(14), 0.6), (np.radians(-14), 0.6),
                   (rng.uniform(0.6, 1.3), rng.choice([-1, 1]) * 0.5),
                   (-rng.uniform(0.5, 1.2), rng.choice([-1, 1]) * 0.4)]
        phis = rng.uniform(0, 2 * np.pi, size=len(streaks))
        art = np.zeros_like(ct)
        rt, L = P['r_tip'], P['L']
        objs = []
        for kz in range(nz):
            # stem centre in this slice (local w from global z)
            wk = zc[kz] / R[2, 2]
            c = R @ np.array([0.0, 0.0, wk])
            if 0 < wk < L:
                xi = np.clip((wk - rt) / (L - rt), 0, 1)
                size = (rt + (P['a_top'] - rt) * xi ** P['p_a'] + rt + (P['b_top'] - rt) * xi ** P['p_b']) \
                    / (P['a_top'] + P['b_top'])
                objs.append((kz, c[0], c[1], size, dpos[:, :, kz], 1.0))
            if P['head']:
                hc = R @ head_center(P)
                dz = zc[kz] - hc[2]
                if abs(dz) < P['head_radius']:
                    size = math.sqrt(P['head_radius'] ** 2 - dz ** 2) / P['a_top']
                    objs.append((kz, hc[0], hc[1], min(size, 1.5), np.maximum(dh[:, :, kz], 0), 0.8))
        for (kz, cx, cy, size, dp, f) in objs:
            X2 = xo[:, None] - cx
            Y2 = yo[None, :] - cy
            for j, (ang, amp) in enumerate(streaks):
                a2 = ang + np.radians(4.0) * math.sin(2 * np.pi * zc[kz] / 37.0 + phis[j])
                perp = -math.sin(a2) * X2 + math.cos(a2) * Y2
                wid = P['streak_width'] * (1 + dp / 20.0)
                jit = 1.0 + 0.25 * math.sin(2 * np.pi * zc[kz] / 23.0 + 2 * phis[j])
                art[:, :, kz] += A * amp * f * size * jit * np.exp(-0.5 * (perp / wid) ** 2) * \
                    np.exp(-dp / P['streak_len'])
        ct += art
    if P['halo_amp'] > 0:
        ct -= P['halo_amp'] * np.exp(-np.abs(d) / P['halo_len'])
    if P['noise'] > 0:
        n = rng.normal(size=ct.shape).astype(np.float32)
        if P['noise_corr'] > 0:
            n = ndimage.gaussian_filter(n, (P['noise_corr'], P['noise_corr'], 0.3))
            n /= n.std()
        boost = 1 + P['noise_metal_boost'] * np.exp(-dpos / 15.0)
        ct += P['noise'] * boost * n
    ct = np.clip(np.rint(ct), -1024, 3071).astype(np.int16)
    t2 = time.time()
    if verbose:
        print(f"  CT {nx}x{ny}x{nz} = {nx*ny*nz/1e6:.2f} M voxels, fine {nxf}x{nyf}x{nzf} "
              f"({nxf*nyf*nzf/1e6:.0f} M), k={k}, {t1-t0:.1f}s + {t2-t1:.1f}s", flush=True)
    return dict(hu=np.ascontiguousarray(ct.transpose(2, 1, 0)), origin=(ox, oy, oz),
                spacing=(vox, vox, sp), dims=(nx, ny, nz), maps=maps, R=R)


def to_vtk_image(ct):
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.util import numpy_support as ns
    img = vtkImageData()
    img.SetDimensions(*ct['dims'])
    img.SetOrigin(*ct['origin'])
    img.SetSpacing(*ct['spacing'])
    arr = ns.numpy_to_vtk(ct['hu'].ravel(), deep=1, array_type=None)
    arr.SetName('HU')
    img.GetPointData().SetScalars(arr)
    return img


# ----------------------------------------------------------------------------- surface
def _sdf_global(p, P, R):
    u, v, w = to_local(p[:, 0], p[:, 1], p[:, 2], R)
    return stem_sdf(u, v, w, P)


def sdf_grad(p, P, R, eps=1e-4):
    g = np.zeros_like(p)
    for i in range(3):
        e = np.zeros(3)
        e[i] = eps
        g[:, i] = (_sdf_global(p + e, P, R) - _sdf_global(p - e, P, R)) / (2 * eps)
    return g


def make_surface(P):
    """Marching cubes on a fine SDF grid, vertices projected onto the analytic surface,
    triangles oriented outward.  Returns (vtkPolyData, points (N,3), normals (N,3))."""
    from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPolyData, vtkCellArray
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkFiltersCore import vtkFlyingEdges3D
    from vtkmodules.util import numpy_support as ns
    R = rotation(P)
    hm = P['mesh_h']
    # bounding box of the stem in global coords
    corners = np.array([[sx * (P['a_top'] + 1), sy * (P['b_top'] + 1), sw]
                        for sx in (-1, 1) for sy in (-1, 1) for sw in (-1, P['L'] + 1)])
    g = corners @ R.T
    lo, hi = g.min(0) - 2, g.max(0) + 2
    n = np.ceil((hi - lo) / hm).astype(int) + 1
    xs = [lo[i] + np.arange(n[i]) * hm for i in range(3)]
    X, Y, Z = np.meshgrid(*xs, indexing='ij')
    u, v, w = to_local(X, Y, Z, R)
    sd = stem_sdf(u, v, w, P)
    img = vtkImageData()
    img.SetDimensions(*n)
    img.SetOrigin(*lo)
    img.SetSpacing(hm, hm, hm)
    a = ns.numpy_to_vtk(np.ascontiguousarray(sd.transpose(2, 1, 0)).ravel().astype(np.float32), deep=1)
    a.SetName('sdf')
    img.GetPointData().SetScalars(a)
    fe = vtkFlyingEdges3D()
    fe.SetInputData(img)
    fe.SetValue(0, 0.0)
    fe.ComputeNormalsOff()
    fe.ComputeGradientsOff()
    fe.ComputeScalarsOff()
    fe.Update()
    out = fe.GetOutput()
    pts = ns.vtk_to_numpy(out.GetPoints().GetData()).astype(np.float64)
    tri = ns.vtk_to_numpy(out.GetPolys().GetConnectivityArray()).reshape(-1, 3).astype(np.int64)
    # project onto the analytic surface (Newton)
    for _ in range(3):
        dd = _sdf_global(pts, P, R)
        gr = sdf_grad(pts, P, R)
        pts -= (dd / np.maximum((gr * gr).sum(1), 1e-12))[:, None] * gr
    nrm = sdf_grad(pts, P, R)
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    # drop degenerate triangles
    p0, p1, p2 = pts[tri[:, 0]], pts[tri[:, 1]], pts[tri[:, 2]]
    cr = np.cross(p1 - p0, p2 - p0)
    area2 = np.linalg.norm(cr, axis=1)
    keep = area2 > 1e-10
    tri, cr = tri[keep], cr[keep]
    # orientation: outward = face normal agrees with the analytic normal
    cen = (pts[tri[:, 0]] + pts[tri[:, 1]] + pts[tri[:, 2]]) / 3
    gc = sdf_grad(cen, P, R)
    agree = (cr * gc).sum(1) > 0
    if agree.mean() < 0.5:
        tri = tri[:, [0, 2, 1]]
    # check consistency: every directed edge exactly once, its reverse once
    e = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    key = e[:, 0] * len(pts) + e[:, 1]
    rkey = e[:, 1] * len(pts) + e[:, 0]
    uniq = np.unique(key)
    consistent = (len(uniq) == len(key)) and np.isin(rkey, uniq).all()
    p0, p1, p2 = pts[tri[:, 0]], pts[tri[:, 1]], pts[tri[:, 2]]
    vol = np.einsum('ij,ij->i', p0, np.cross(p1, p2)).sum() / 6.0
    # vtk polydata
    poly = vtkPolyData()
    vp = vtkPoints()
    vp.SetData(ns.numpy_to_vtk(pts, deep=1))
    poly.SetPoints(vp)
    ca = vtkCellArray()
    offs = np.arange(0, 3 * len(tri) + 1, 3, dtype=np.int64)
    ca.SetData(ns.numpy_to_vtk(offs, deep=1, array_type=ns.get_vtk_array_type(np.int64)),
               ns.numpy_to_vtk(tri.ravel().copy(), deep=1, array_type=ns.get_vtk_array_type(np.int64)))
    poly.SetPolys(ca)
    info = dict(n_points=len(pts), n_tris=len(tri), consistent=bool(consistent), volume=vol,
                face_agree=float(max(agree.mean(), 1 - agree.mean())),
                max_abs_sdf=float(np.abs(_sdf_global(pts, P, R)).max()))
    return poly, pts, nrm, tri, info


# ----------------------------------------------------------------------------- truth
def truth(pts, nrm, P, maps=None, t_max=8.0, dt=0.02, band=(1.0, 1.5)):
    """Per vertex: class (majority over band along the outward normal), band homogeneity,
    interface width (distance to the first bone along the normal; inf if none by t_max),
    layer in front (1 membrane, 6 marrow, 7 soft above the resection, 2/3 bone)."""
    R = rotation(P)
    if maps is None:
        maps = Maps(P)
    ts = np.arange(dt, t_max + dt / 2, dt)
    N = len(pts)
    cls_all = np.zeros((N, len(ts)), np.int8)
    lay_all = np.zeros((N, len(ts)), np.int8)
    for s in range(0, N, 4000):
        p = pts[s:s + 4000, None, :] + ts[None, :, None] * nrm[s:s + 4000, None, :]
        u, v, w = to_local(p[..., 0], p[..., 1], p[..., 2], R)
        c, l = labels(u, v, w, P, maps)
        cls_all[s:s + 4000] = c
        lay_all[s:s + 4000] = l
    inb = (ts >= band[0] - 1e-9) & (ts <= band[1] + 1e-9)
    cb = cls_all[:, inb]
    counts = np.stack([(cb == c).sum(1) for c in range(4)], 1)
    tcls = counts.argmax(1)
    homog = counts.max(1) == inb.sum()
    isbone = cls_all >= 2
    first = np.where(isbone.any(1), isbone.argmax(1), -1)
    width = np.where(first >= 0, ts[np.maximum(first, 0)] - dt / 2, np.inf)
    width = np.where(first == 0, 0.0, width)
    front = lay_all[:, 0]
    return dict(cls=tcls, homog=homog, width=width, front=front, cls_band=cb)
