//! Named parameter tensors in full precision, as checkpoints and exports store them.

use serde::{Deserialize, Serialize};

/// Element type of stored numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DType {
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
}

impl DType {
    /// Lowercase name, as in config files (`f32`, `f64`).
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }
}

/// Numbers of one tensor, in their own precision so that a resumed run continues bit for bit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TensorData {
    /// 32-bit values.
    F32(Vec<f32>),
    /// 64-bit values.
    F64(Vec<f64>),
}

impl TensorData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F32(_) => DType::F32,
            TensorData::F64(_) => DType::F64,
        }
    }

    /// The values widened to f64.
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            TensorData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::F64(v) => v.clone(),
        }
    }
}

/// A tensor with a name and a row-major shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedTensor {
    /// Name, for example `layers.0.weight` (PyTorch's naming of `nn.Linear`).
    pub name: String,
    /// Row-major shape, for example `[16, 784]` (out, in) for a weight.
    pub shape: Vec<usize>,
    /// The values.
    pub data: TensorData,
}

impl NamedTensor {
    /// Whether the number of values matches the shape.
    pub fn is_consistent(&self) -> bool {
        self.shape.iter().product::<usize>() == self.data.len()
    }
}
