//! `GET /ws`: the WebSocket form of /run. Each text message is a request; each
//! answer is `{"requestId", "results", "error"}`, sent when its runs end (so
//! answers may come in another order than requests). Closing the socket kills
//! the runs still going.

use crate::http::{execute, parse_request, AppState};
use crate::model::Response;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::IntoResponse;
use std::sync::Arc;
use tokio::task::JoinSet;

pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<Arc<AppState>>,
) -> impl IntoResponse {
    ws.on_upgrade(move |socket| session(socket, state))
}

async fn session(mut socket: WebSocket, state: Arc<AppState>) {
    // Dropping the set (the socket closed) drops the requests' futures, which
    // kills their runs.
    let mut runs: JoinSet<Response> = JoinSet::new();
    loop {
        tokio::select! {
            message = socket.recv() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(bytes))) => match String::from_utf8(bytes.to_vec()) {
                        Ok(text) => text.into(),
                        Err(_) => break,
                    },
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break,
                };
                let state = state.clone();
                runs.spawn(async move { answer(&state, text.as_bytes()).await });
            }
            Some(done) = runs.join_next(), if !runs.is_empty() => {
                let response = done.unwrap_or_else(|e| Response {
                    request_id: String::new(),
                    results: Vec::new(),
                    error: format!("run failed: {e}"),
                });
                let text = serde_json::to_string(&response).unwrap_or_default();
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
        }
    }
}

async fn answer(state: &Arc<AppState>, body: &[u8]) -> Response {
    let request = match parse_request(body) {
        Ok(r) => r,
        Err(e) => {
            return Response {
                request_id: String::new(),
                results: Vec::new(),
                error: e.1,
            }
        }
    };
    let request_id = request.request_id.clone();
    match execute(state, request).await {
        Ok(results) => Response {
            request_id,
            results,
            error: String::new(),
        },
        Err(e) => Response {
            request_id,
            results: Vec::new(),
            error: e.1,
        },
    }
}
