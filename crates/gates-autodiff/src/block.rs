//! Blocks of vectors: k vectors of ℝ^d side by side as a column-major d × k matrix, the input
//! and output of block Hessian products.

use crate::error::{Error, Result};

/// k vectors of length d, stored column after column (a column-major d × k matrix, the layout
/// faer and LAPACK use).
#[derive(Clone, Debug, PartialEq)]
pub struct Block<E> {
    dim: usize,
    data: Vec<E>,
}

impl<E: Copy> Block<E> {
    /// A block from a column-major buffer of `dim × cols` values.
    pub fn from_col_major(dim: usize, data: Vec<E>) -> Result<Self> {
        if dim == 0 {
            return Err(Error::Param {
                key: "block column length",
                expected: "at least 1",
                got: "0".into(),
            });
        }
        if data.len() % dim != 0 {
            return Err(Error::Length {
                what: "column-major block buffer (whole columns)",
                expected: data.len().next_multiple_of(dim),
                got: data.len(),
            });
        }
        Ok(Self { dim, data })
    }

    /// A block whose columns are copies of `columns`, each of length `dim`.
    pub fn from_columns(dim: usize, columns: &[&[E]]) -> Result<Self> {
        let mut data = Vec::with_capacity(dim * columns.len());
        for c in columns {
            if c.len() != dim {
                return Err(Error::Length { what: "block column", expected: dim, got: c.len() });
            }
            data.extend_from_slice(c);
        }
        Self::from_col_major(dim, data)
    }

    /// A block of `cols` columns of length `dim`, every entry `fill`.
    pub fn filled(dim: usize, cols: usize, fill: E) -> Self {
        Self { dim, data: vec![fill; dim * cols] }
    }

    /// Length d of every column.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of columns k.
    pub fn cols(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Column `j`.
    pub fn col(&self, j: usize) -> &[E] {
        &self.data[j * self.dim..(j + 1) * self.dim]
    }

    /// Column `j`, mutably.
    pub fn col_mut(&mut self, j: usize) -> &mut [E] {
        &mut self.data[j * self.dim..(j + 1) * self.dim]
    }

    /// The columns in order.
    pub fn columns(&self) -> impl Iterator<Item = &[E]> + '_ {
        self.data.chunks_exact(self.dim)
    }

    /// The columns in order, mutably.
    pub fn columns_mut(&mut self) -> impl Iterator<Item = &mut [E]> + '_ {
        self.data.chunks_exact_mut(self.dim)
    }

    /// The column-major buffer.
    pub fn as_slice(&self) -> &[E] {
        &self.data
    }

    /// The column-major buffer, by value.
    pub fn into_vec(self) -> Vec<E> {
        self.data
    }
}
