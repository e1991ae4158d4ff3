//! Courses: the outline a viewer sees, opening a lesson (which remembers where a buyer is), and
//! marking lessons done. Free preview lessons open for everyone; the rest for buyers only.

use crate::db::Db;
use crate::downloads::Signer;
use app::api::{CourseLesson, CourseProgress, CourseView, LessonView};
use clock::unix_now;

#[derive(Debug, thiserror::Error)]
pub enum CourseError {
    #[error("no such lesson")]
    NoLesson,
    #[error("this lesson is for the course's buyers")]
    Locked,
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct CourseRow {
    id: i64,
    slug: String,
    title: String,
    price_stars: i64,
    owned: bool,
}

#[derive(sqlx::FromRow, Clone)]
struct LessonRow {
    id: i64,
    title: String,
    body: String,
    is_preview: bool,
    file_id: Option<i64>,
    completed: bool,
}

/// A course a viewer may see: published, or archived but theirs (archived products stay in
/// their buyers' libraries).
/// `now` ends a membership's access: its entitlement expires (progress stays).
async fn course(
    db: &Db,
    slug: &str,
    viewer: Option<i64>,
    now: i64,
) -> Result<Option<CourseRow>, sqlx::Error> {
    crate::on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT p.id, p.slug, p.title, p.price_stars,
                EXISTS (SELECT 1 FROM entitlements e
                        WHERE e.user_id = $2 AND e.product_id = p.id AND e.revoked_at IS NULL
                          AND (e.expires_at IS NULL OR e.expires_at > $3)) AS owned
         FROM products p
         WHERE p.slug = $1 AND p.kind = 'course'
           AND (p.status = 'published' OR (p.status = 'archived' AND EXISTS (
                SELECT 1 FROM entitlements e
                WHERE e.user_id = $2 AND e.product_id = p.id AND e.revoked_at IS NULL
                  AND (e.expires_at IS NULL OR e.expires_at > $3))))",
        )
        .bind(slug)
        .bind(viewer)
        .bind(now)
        .fetch_optional(pool)
        .await
    })
}

async fn lessons(
    db: &Db,
    product_id: i64,
    viewer: Option<i64>,
) -> Result<Vec<LessonRow>, sqlx::Error> {
    crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT l.id, l.title, l.body, l.is_preview, l.file_id,
                EXISTS (SELECT 1 FROM lesson_progress lp
                        WHERE lp.lesson_id = l.id AND lp.user_id = $2) AS completed
         FROM lessons l WHERE l.product_id = $1
         ORDER BY l.position, l.id",
    )
    .bind(product_id)
    .bind(viewer)
    .fetch_all(pool)
    .await)
}

async fn position(db: &Db, user: i64, product_id: i64) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT lesson_id FROM course_positions WHERE user_id = $1 AND product_id = $2",
    )
    .bind(user)
    .bind(product_id)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|(id,)| id))
}

/// The outline, with the viewer's progress and where to resume.
pub async fn outline(
    db: &Db,
    slug: &str,
    viewer: Option<i64>,
    now: i64,
) -> Result<Option<CourseView>, CourseError> {
    let Some(course) = course(db, slug, viewer, now).await? else {
        return Ok(None);
    };
    let rows = lessons(db, course.id, viewer).await?;
    let saved = match viewer {
        Some(user) if course.owned => position(db, user, course.id).await?,
        _ => None,
    };
    let open = |l: &LessonRow| course.owned || l.is_preview;
    let resume_lesson_id = saved
        .filter(|id| rows.iter().any(|l| l.id == *id))
        .or_else(|| rows.iter().find(|l| open(l)).map(|l| l.id));
    Ok(Some(CourseView {
        lessons: rows
            .iter()
            .map(|l| CourseLesson {
                id: l.id,
                title: l.title.clone(),
                is_preview: l.is_preview,
                completed: l.completed,
                open: open(l),
            })
            .collect(),
        slug: course.slug,
        title: course.title,
        price_stars: u32::try_from(course.price_stars).unwrap_or(0),
        owned: course.owned,
        resume_lesson_id,
    }))
}

/// Opens a lesson for the viewer; for a buyer it also becomes where they are in the course.
pub async fn open_lesson(
    db: &Db,
    signer: &Signer,
    slug: &str,
    lesson_id: i64,
    viewer: Option<i64>,
    now: i64,
) -> Result<LessonView, CourseError> {
    let course = course(db, slug, viewer, now)
        .await?
        .ok_or(CourseError::NoLesson)?;
    let rows = lessons(db, course.id, viewer).await?;
    let index = rows
        .iter()
        .position(|l| l.id == lesson_id)
        .ok_or(CourseError::NoLesson)?;
    let lesson = rows[index].clone();
    let open = |l: &LessonRow| course.owned || l.is_preview;
    if !open(&lesson) {
        return Err(CourseError::Locked);
    }
    let mut attachment = None;
    if let (Some(user), Some(file_id), true) = (viewer, lesson.file_id, course.owned) {
        // Attachments are paid files: signed like the library's, for buyers only.
        let file: Option<(String, i64, String)> = crate::on_db!(db, |pool| sqlx::query_as(
            "SELECT file_name, size_bytes, mime_type FROM product_files WHERE id = $1"
        )
        .bind(file_id)
        .fetch_optional(pool)
        .await)?;
        attachment = file
            .map(|(name, size, mime)| signer.offer(user, file_id, name, size, &mime, unix_now()));
    }
    if let (Some(user), true) = (viewer, course.owned) {
        crate::on_db!(db, |pool| sqlx::query(
            "INSERT INTO course_positions (user_id, product_id, lesson_id, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, product_id)
             DO UPDATE SET lesson_id = excluded.lesson_id, updated_at = excluded.updated_at",
        )
        .bind(user)
        .bind(course.id)
        .bind(lesson.id)
        .bind(unix_now())
        .execute(pool)
        .await
        .map(crate::db::Done::from))?;
    }
    // Neighbours the viewer can open: a visitor steps between the free previews.
    let previous_id = rows[..index].iter().rev().find(|l| open(l)).map(|l| l.id);
    let next_id = rows[index + 1..].iter().find(|l| open(l)).map(|l| l.id);
    // A visitor's stream token is for nobody in particular: it opens free previews only.
    let watcher = viewer.filter(|_| course.owned);
    let video = crate::videos::for_viewer(db, signer, lesson.id, watcher, now).await?;
    Ok(LessonView {
        id: lesson.id,
        course_slug: course.slug,
        course_title: course.title,
        number: index as u32 + 1,
        title: lesson.title,
        // The same renderer and sanitiser as product descriptions.
        body_html: crate::studio::markdown::render(&lesson.body),
        attachment,
        completed: lesson.completed,
        previous_id,
        next_id,
        owned: course.owned,
        video,
    })
}

/// The course's id when `user` owns it and `lesson_id` is one of its lessons: what a buyer's
/// progress (done, a video's place) may be kept for.
async fn owned_lesson(
    db: &Db,
    slug: &str,
    lesson_id: i64,
    user: i64,
    now: i64,
) -> Result<i64, CourseError> {
    let course = course(db, slug, Some(user), now)
        .await?
        .ok_or(CourseError::NoLesson)?;
    if !course.owned {
        return Err(CourseError::Locked);
    }
    let in_course: Option<i64> = crate::on_db!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM lessons WHERE id = $1 AND product_id = $2"
    )
    .bind(lesson_id)
    .bind(course.id)
    .fetch_optional(pool)
    .await)?;
    in_course.ok_or(CourseError::NoLesson)?;
    Ok(course.id)
}

/// Marks a lesson done for its buyer (again is fine).
pub async fn complete(
    db: &Db,
    slug: &str,
    lesson_id: i64,
    user: i64,
    now: i64,
) -> Result<(), CourseError> {
    owned_lesson(db, slug, lesson_id, user, now).await?;
    crate::on_db!(db, |pool| sqlx::query(
        "INSERT INTO lesson_progress (user_id, lesson_id) VALUES ($1, $2)
         ON CONFLICT (user_id, lesson_id) DO NOTHING",
    )
    .bind(user)
    .bind(lesson_id)
    .execute(pool)
    .await
    .map(crate::db::Done::from))?;
    Ok(())
}

/// Remembers where the buyer is in a lesson's video.
pub async fn save_video_position(
    db: &Db,
    slug: &str,
    lesson_id: i64,
    user: i64,
    seconds: u32,
    now: i64,
) -> Result<(), CourseError> {
    owned_lesson(db, slug, lesson_id, user, now).await?;
    crate::videos::save_position(db, user, lesson_id, seconds, now).await?;
    Ok(())
}

/// Whether `viewer` may open the lesson now: a buyer whose access is active, or anyone for a
/// free preview of a course on sale. Asked again by every request for a lesson's stream, so a
/// refund stops the video in the middle.
pub async fn may_open(
    db: &Db,
    lesson_id: i64,
    viewer: Option<i64>,
    now: i64,
) -> Result<bool, CourseError> {
    let access: Option<(bool, bool)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT l.is_preview AND p.status = 'published',
                EXISTS (SELECT 1 FROM entitlements e
                        WHERE e.user_id = $2 AND e.product_id = p.id AND e.revoked_at IS NULL
                          AND (e.expires_at IS NULL OR e.expires_at > $3))
         FROM lessons l JOIN products p ON p.id = l.product_id
         WHERE l.id = $1 AND p.kind = 'course'",
    )
    .bind(lesson_id)
    .bind(viewer)
    .bind(now)
    .fetch_optional(pool)
    .await)?;
    let (free, owned) = access.ok_or(CourseError::NoLesson)?;
    Ok(free || owned)
}

/// A buyer's progress through one course, for the library.
pub async fn progress(db: &Db, user: i64, product_id: i64) -> Result<CourseProgress, sqlx::Error> {
    let (total, done): (i64, i64) = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT COUNT(*),
                COUNT(lp.lesson_id)
         FROM lessons l
         LEFT JOIN lesson_progress lp ON lp.lesson_id = l.id AND lp.user_id = $1
         WHERE l.product_id = $2",
    )
    .bind(user)
    .bind(product_id)
    .fetch_one(pool)
    .await)?;
    let resume: Option<(String,)> = crate::on_db!(db, |pool| sqlx::query_as(
        "SELECT l.title FROM course_positions cp JOIN lessons l ON l.id = cp.lesson_id
         WHERE cp.user_id = $1 AND cp.product_id = $2",
    )
    .bind(user)
    .bind(product_id)
    .fetch_optional(pool)
    .await)?;
    Ok(CourseProgress {
        done: u32::try_from(done).unwrap_or(0),
        total: u32::try_from(total).unwrap_or(0),
        resume_title: resume.map(|(title,)| title),
    })
}
