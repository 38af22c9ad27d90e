//! The floating-point types models are generic over, and the device they run on.

use dfdx::dtypes::Dtype;
use dfdx::tensor_ops::Device;
use gates_artifacts::{DType, TensorData};

/// A float type we train in: f32 or f64.
pub trait Scalar: Dtype + num_traits::Float + Send + Sync + std::fmt::Debug + 'static {
    /// The matching on-disk element type.
    const DTYPE: DType;

    /// Converts from f64 (rounding for f32).
    fn of(x: f64) -> Self;

    /// Widens to f64.
    fn f64(self) -> f64;

    /// Packs values into on-disk tensor data, keeping full precision.
    fn pack(values: Vec<Self>) -> TensorData;

    /// Unpacks on-disk tensor data of exactly this precision; `None` for the other precision.
    fn unpack(data: &TensorData) -> Option<Vec<Self>>;
}

impl Scalar for f32 {
    const DTYPE: DType = DType::F32;

    fn of(x: f64) -> Self {
        x as f32
    }

    fn f64(self) -> f64 {
        self as f64
    }

    fn pack(values: Vec<Self>) -> TensorData {
        TensorData::F32(values)
    }

    fn unpack(data: &TensorData) -> Option<Vec<Self>> {
        match data {
            TensorData::F32(v) => Some(v.clone()),
            TensorData::F64(_) => None,
        }
    }
}

impl Scalar for f64 {
    const DTYPE: DType = DType::F64;

    fn of(x: f64) -> Self {
        x
    }

    fn f64(self) -> f64 {
        self
    }

    fn pack(values: Vec<Self>) -> TensorData {
        TensorData::F64(values)
    }

    fn unpack(data: &TensorData) -> Option<Vec<Self>> {
        match data {
            TensorData::F64(v) => Some(v.clone()),
            TensorData::F32(_) => None,
        }
    }
}

/// A dfdx device that can run every model of this crate in precision `E`. Not `Send`: the CUDA
/// device holds a raw stream handle, so parallel work on host data stays on the host side.
pub trait Backend<E: Scalar>: Device<E> + Clone + 'static {}

impl<E: Scalar, D: Device<E> + Clone + 'static> Backend<E> for D {}

/// The device the binaries use: CUDA with the `cuda` feature, the CPU otherwise.
#[cfg(feature = "cuda")]
pub type DefaultDevice = dfdx::tensor::Cuda;

/// The device the binaries use: CUDA with the `cuda` feature, the CPU otherwise.
#[cfg(not(feature = "cuda"))]
pub type DefaultDevice = dfdx::tensor::Cpu;
